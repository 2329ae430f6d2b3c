module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4x8xi32>) -> (tensor<4x8xi32> {jax.result_info = "result[0]"}, tensor<4x8xi32> {jax.result_info = "result[1]"}) {
    %0 = stablehlo.multiply %arg0, %arg0 : tensor<4x8xi32>
    %1 = stablehlo.multiply %arg0, %arg0 : tensor<4x8xi32>
    %2 = stablehlo.multiply %1, %1 : tensor<4x8xi32>
    %3 = stablehlo.multiply %arg0, %2 : tensor<4x8xi32>
    return %0, %3 : tensor<4x8xi32>, tensor<4x8xi32>
  }
}
