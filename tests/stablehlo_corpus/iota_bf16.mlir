module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<bf16>) -> (tensor<3x5xbf16> {jax.result_info = "result[0]"}, tensor<6xbf16> {jax.result_info = "result[1]"}) {
    %0 = stablehlo.iota dim = 1 : tensor<3x5xbf16>
    %1 = stablehlo.broadcast_in_dim %arg0, dims = [] : (tensor<bf16>) -> tensor<3x5xbf16>
    %2 = stablehlo.add %0, %1 : tensor<3x5xbf16>
    %3 = stablehlo.iota dim = 0 : tensor<6xbf16>
    return %2, %3 : tensor<3x5xbf16>, tensor<6xbf16>
  }
}
