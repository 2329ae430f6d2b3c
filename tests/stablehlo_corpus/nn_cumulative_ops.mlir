module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4x8xf32>) -> (tensor<4x3xf32> {jax.result_info = "result[0]"}, tensor<4x7xf32> {jax.result_info = "result[1]"}) {
    %0 = stablehlo.slice %arg0 [0:4, 0:3] : (tensor<4x8xf32>) -> tensor<4x3xf32>
    %cst = stablehlo.constant dense<5.000000e-01> : tensor<f32>
    %1 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> tensor<4x3xf32>
    %2 = stablehlo.multiply %0, %1 : tensor<4x3xf32>
    %3 = call @cumprod(%2) : (tensor<4x3xf32>) -> tensor<4x3xf32>
    %4 = call @diff(%arg0) : (tensor<4x8xf32>) -> tensor<4x7xf32>
    return %3, %4 : tensor<4x3xf32>, tensor<4x7xf32>
  }
  func.func private @cumprod(%arg0: tensor<4x3xf32>) -> tensor<4x3xf32> {
    %0 = call @cumprod_0(%arg0) : (tensor<4x3xf32>) -> tensor<4x3xf32>
    return %0 : tensor<4x3xf32>
  }
  func.func private @cumprod_0(%arg0: tensor<4x3xf32>) -> tensor<4x3xf32> {
    %cst = stablehlo.constant dense<1.000000e+00> : tensor<f32>
    %0 = "stablehlo.reduce_window"(%arg0, %cst) <{base_dilations = array<i64: 1, 1>, padding = dense<[[0, 0], [2, 0]]> : tensor<2x2xi64>, window_dilations = array<i64: 1, 1>, window_dimensions = array<i64: 1, 3>, window_strides = array<i64: 1, 1>}> ({
    ^bb0(%arg1: tensor<f32>, %arg2: tensor<f32>):
      %1 = stablehlo.multiply %arg1, %arg2 : tensor<f32>
      stablehlo.return %1 : tensor<f32>
    }) : (tensor<4x3xf32>, tensor<f32>) -> tensor<4x3xf32>
    return %0 : tensor<4x3xf32>
  }
  func.func private @diff(%arg0: tensor<4x8xf32>) -> tensor<4x7xf32> {
    %0 = stablehlo.slice %arg0 [0:4, 1:8] : (tensor<4x8xf32>) -> tensor<4x7xf32>
    %1 = stablehlo.slice %arg0 [0:4, 0:7] : (tensor<4x8xf32>) -> tensor<4x7xf32>
    %2 = stablehlo.subtract %0, %1 : tensor<4x7xf32>
    return %2 : tensor<4x7xf32>
  }
}
