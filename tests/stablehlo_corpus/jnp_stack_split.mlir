module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<2x6xf32>) -> (tensor<2x2x2xf32> {jax.result_info = "result[0]"}, tensor<2x2x2xf32> {jax.result_info = "result[1]"}, tensor<2x2x2xf32> {jax.result_info = "result[2]"}) {
    %0 = stablehlo.negate %arg0 : tensor<2x6xf32>
    %1 = stablehlo.broadcast_in_dim %arg0, dims = [0, 2] : (tensor<2x6xf32>) -> tensor<2x1x6xf32>
    %2 = stablehlo.broadcast_in_dim %0, dims = [0, 2] : (tensor<2x6xf32>) -> tensor<2x1x6xf32>
    %3 = stablehlo.concatenate %1, %2, dim = 1 : (tensor<2x1x6xf32>, tensor<2x1x6xf32>) -> tensor<2x2x6xf32>
    %4 = stablehlo.slice %3 [0:2, 0:2, 0:2] : (tensor<2x2x6xf32>) -> tensor<2x2x2xf32>
    %5 = stablehlo.slice %3 [0:2, 0:2, 2:4] : (tensor<2x2x6xf32>) -> tensor<2x2x2xf32>
    %6 = stablehlo.slice %3 [0:2, 0:2, 4:6] : (tensor<2x2x6xf32>) -> tensor<2x2x2xf32>
    return %4, %5, %6 : tensor<2x2x2xf32>, tensor<2x2x2xf32>, tensor<2x2x2xf32>
  }
}
