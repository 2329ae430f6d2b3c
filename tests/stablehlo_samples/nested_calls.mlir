module @jit_nested_calls attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<3x3xf32>) -> (tensor<3x3xf32> {jax.result_info = "result[0]"}, tensor<3x3xf32> {jax.result_info = "result[1][0]"}, tensor<3x3xf32> {jax.result_info = "result[1][1]"}) {
    %0 = call @outer(%arg0) : (tensor<3x3xf32>) -> tensor<3x3xf32>
    %1 = call @inner(%arg0) : (tensor<3x3xf32>) -> tensor<3x3xf32>
    %2 = stablehlo.add %0, %1 : tensor<3x3xf32>
    %cst = stablehlo.constant dense<2.000000e+00> : tensor<f32>
    %3 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> tensor<3x3xf32>
    %4 = stablehlo.multiply %arg0, %3 : tensor<3x3xf32>
    %5:2 = stablehlo.optimization_barrier %arg0, %4 : tensor<3x3xf32>, tensor<3x3xf32>
    return %2, %5#0, %5#1 : tensor<3x3xf32>, tensor<3x3xf32>, tensor<3x3xf32>
  }
  func.func private @outer(%arg0: tensor<3x3xf32>) -> tensor<3x3xf32> {
    %0 = call @inner(%arg0) : (tensor<3x3xf32>) -> tensor<3x3xf32>
    %1 = stablehlo.transpose %arg0, dims = [1, 0] : (tensor<3x3xf32>) -> tensor<3x3xf32>
    %2 = call @inner(%1) : (tensor<3x3xf32>) -> tensor<3x3xf32>
    %3 = stablehlo.add %0, %2 : tensor<3x3xf32>
    return %3 : tensor<3x3xf32>
  }
  func.func private @inner(%arg0: tensor<3x3xf32>) -> tensor<3x3xf32> {
    %0 = stablehlo.tanh %arg0 : tensor<3x3xf32>
    %cst = stablehlo.constant dense<2.000000e+00> : tensor<f32>
    %1 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> tensor<3x3xf32>
    %2 = stablehlo.multiply %0, %1 : tensor<3x3xf32>
    return %2 : tensor<3x3xf32>
  }
}
