module @jit_integer_pow attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4x8xf64>) -> (tensor<4x8xf64> {jax.result_info = "result"}) {
    %0 = stablehlo.multiply %arg0, %arg0 : tensor<4x8xf64>
    %1 = stablehlo.multiply %0, %arg0 : tensor<4x8xf64>
    return %1 : tensor<4x8xf64>
  }
}
