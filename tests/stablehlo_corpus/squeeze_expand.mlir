module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<3x1x4xf32>) -> (tensor<3x4xf32> {jax.result_info = "result[0]"}, tensor<1x3x1x4xf32> {jax.result_info = "result[1]"}) {
    %0 = stablehlo.reshape %arg0 : (tensor<3x1x4xf32>) -> tensor<3x4xf32>
    %1 = stablehlo.broadcast_in_dim %arg0, dims = [1, 2, 3] : (tensor<3x1x4xf32>) -> tensor<1x3x1x4xf32>
    return %0, %1 : tensor<3x4xf32>, tensor<1x3x1x4xf32>
  }
}
