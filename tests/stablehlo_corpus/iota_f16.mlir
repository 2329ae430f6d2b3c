module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<f16>) -> (tensor<3x5xf16> {jax.result_info = "result[0]"}, tensor<6xf16> {jax.result_info = "result[1]"}) {
    %0 = stablehlo.iota dim = 1 : tensor<3x5xf16>
    %1 = stablehlo.broadcast_in_dim %arg0, dims = [] : (tensor<f16>) -> tensor<3x5xf16>
    %2 = stablehlo.add %0, %1 : tensor<3x5xf16>
    %3 = stablehlo.iota dim = 0 : tensor<6xf16>
    return %2, %3 : tensor<3x5xf16>, tensor<6xf16>
  }
}
