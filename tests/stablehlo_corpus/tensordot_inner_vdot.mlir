module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<2x3x4xf32>, %arg1: tensor<3x4x5xf32>) -> (tensor<2x5xf32> {jax.result_info = "result[0]"}, tensor<3x3xf32> {jax.result_info = "result[1]"}, tensor<f32> {jax.result_info = "result[2]"}) {
    %0 = stablehlo.dot_general %arg0, %arg1, contracting_dims = [1, 2] x [0, 1], precision = [DEFAULT, DEFAULT] : (tensor<2x3x4xf32>, tensor<3x4x5xf32>) -> tensor<2x5xf32>
    %1 = stablehlo.slice %arg0 [0:1, 0:3, 0:4] : (tensor<2x3x4xf32>) -> tensor<1x3x4xf32>
    %2 = stablehlo.reshape %1 : (tensor<1x3x4xf32>) -> tensor<3x4xf32>
    %3 = stablehlo.slice %arg1 [0:3, 0:4, 0:1] : (tensor<3x4x5xf32>) -> tensor<3x4x1xf32>
    %4 = stablehlo.reshape %3 : (tensor<3x4x1xf32>) -> tensor<3x4xf32>
    %5 = stablehlo.dot_general %2, %4, contracting_dims = [1] x [1], precision = [DEFAULT, DEFAULT] : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x3xf32>
    %6 = stablehlo.slice %arg0 [0:1, 0:3, 0:4] : (tensor<2x3x4xf32>) -> tensor<1x3x4xf32>
    %7 = stablehlo.reshape %6 : (tensor<1x3x4xf32>) -> tensor<3x4xf32>
    %8 = stablehlo.slice %arg0 [1:2, 0:3, 0:4] : (tensor<2x3x4xf32>) -> tensor<1x3x4xf32>
    %9 = stablehlo.reshape %8 : (tensor<1x3x4xf32>) -> tensor<3x4xf32>
    %10 = stablehlo.reshape %7 : (tensor<3x4xf32>) -> tensor<12xf32>
    %11 = stablehlo.reshape %9 : (tensor<3x4xf32>) -> tensor<12xf32>
    %12 = stablehlo.dot_general %10, %11, contracting_dims = [0] x [0], precision = [DEFAULT, DEFAULT] : (tensor<12xf32>, tensor<12xf32>) -> tensor<f32>
    return %0, %5, %12 : tensor<2x5xf32>, tensor<3x3xf32>, tensor<f32>
  }
}
