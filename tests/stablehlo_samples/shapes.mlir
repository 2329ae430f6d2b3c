module @jit_shapes attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<2x3x4xf32>, %arg1: tensor<4xf32>) -> (tensor<6x4xf32> {jax.result_info = "result[0]"}, tensor<4x2x3xf32> {jax.result_info = "result[1]"}, tensor<2x2x2xf32> {jax.result_info = "result[2]"}, tensor<2x6x4xf32> {jax.result_info = "result[3]"}, tensor<3x5x6xf32> {jax.result_info = "result[4]"}, tensor<10xf32> {jax.result_info = "result[5]"}, tensor<2x3x4xf32> {jax.result_info = "result[6]"}, tensor<3x4xf32> {jax.result_info = "result[7]"}, tensor<3x4xi64> {jax.result_info = "result[8]"}, tensor<2x3x4xf32> {jax.result_info = "result[9]"}, tensor<1x2x3xf32> {jax.result_info = "result[10]"}, tensor<2x3x4xf32> {jax.result_info = "result[11]"}, tensor<2x3x4xf32> {jax.result_info = "result[12]"}, tensor<3x3xi32> {jax.result_info = "result[13]"}, tensor<8xf32> {jax.result_info = "result[14]"}) {
    %0 = stablehlo.reshape %arg0 : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
    %1 = stablehlo.transpose %arg0, dims = [2, 0, 1] : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
    %2 = stablehlo.slice %arg0 [0:2, 1:3, 0:4:2] : (tensor<2x3x4xf32>) -> tensor<2x2x2xf32>
    %3 = stablehlo.concatenate %arg0, %arg0, dim = 1 : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x6x4xf32>
    %c = stablehlo.constant dense<0> : tensor<i64>
    %4 = call @_pad(%arg0, %c) : (tensor<2x3x4xf32>, tensor<i64>) -> tensor<3x5x6xf32>
    %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %5 = stablehlo.pad %arg1, %cst, low = [1], high = [2], interior = [1] : (tensor<4xf32>, tensor<f32>) -> tensor<10xf32>
    %6 = stablehlo.reverse %arg0, dims = [0, 2] : tensor<2x3x4xf32>
    %7 = stablehlo.broadcast_in_dim %arg1, dims = [1] : (tensor<4xf32>) -> tensor<3x4xf32>
    %8 = stablehlo.iota dim = 0 : tensor<12xi64>
    %9 = stablehlo.reshape %8 : (tensor<12xi64>) -> tensor<3x4xi64>
    %10 = stablehlo.broadcast_in_dim %arg1, dims = [1] : (tensor<4xf32>) -> tensor<1x4xf32>
    %11 = stablehlo.broadcast_in_dim %10, dims = [1, 2] : (tensor<1x4xf32>) -> tensor<1x1x4xf32>
    %12 = stablehlo.broadcast_in_dim %11, dims = [0, 1, 2] : (tensor<1x1x4xf32>) -> tensor<2x3x4xf32>
    %13 = stablehlo.add %12, %arg0 : tensor<2x3x4xf32>
    %c_0 = stablehlo.constant dense<1> : tensor<i64>
    %c_1 = stablehlo.constant dense<1> : tensor<i64>
    %c_2 = stablehlo.constant dense<0> : tensor<i64>
    %14 = stablehlo.dynamic_slice %arg0, %c_0, %c_1, %c_2, sizes = [1, 2, 3] : (tensor<2x3x4xf32>, tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<1x2x3xf32>
    %15 = stablehlo.slice %arg1 [0:3] : (tensor<4xf32>) -> tensor<3xf32>
    %16 = stablehlo.broadcast_in_dim %15, dims = [2] : (tensor<3xf32>) -> tensor<1x1x3xf32>
    %c_3 = stablehlo.constant dense<1> : tensor<i64>
    %c_4 = stablehlo.constant dense<2> : tensor<i64>
    %c_5 = stablehlo.constant dense<1> : tensor<i64>
    %17 = stablehlo.dynamic_update_slice %arg0, %16, %c_3, %c_4, %c_5 : (tensor<2x3x4xf32>, tensor<1x1x3xf32>, tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<2x3x4xf32>
    %18 = stablehlo.slice %arg0 [0:2, 0:1, 0:4] : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
    %19 = stablehlo.broadcast_in_dim %18, dims = [0, 1, 2] : (tensor<2x1x4xf32>) -> tensor<2x3x4xf32>
    %20 = stablehlo.iota dim = 0 : tensor<3x3xi64>
    %21 = stablehlo.iota dim = 1 : tensor<3x3xi64>
    %c_6 = stablehlo.constant dense<0> : tensor<i64>
    %22 = stablehlo.broadcast_in_dim %c_6, dims = [] : (tensor<i64>) -> tensor<3x3xi64>
    %23 = stablehlo.add %20, %22 : tensor<3x3xi64>
    %24 = stablehlo.compare EQ, %23, %21, SIGNED : (tensor<3x3xi64>, tensor<3x3xi64>) -> tensor<3x3xi1>
    %25 = stablehlo.convert %24 : (tensor<3x3xi1>) -> tensor<3x3xi32>
    %26 = stablehlo.reshape %arg1 : (tensor<4xf32>) -> tensor<1x4xf32>
    %27 = stablehlo.broadcast_in_dim %26, dims = [0, 1] : (tensor<1x4xf32>) -> tensor<2x4xf32>
    %28 = stablehlo.reshape %27 : (tensor<2x4xf32>) -> tensor<8xf32>
    return %0, %1, %2, %3, %4, %5, %6, %7, %9, %13, %14, %17, %19, %25, %28 : tensor<6x4xf32>, tensor<4x2x3xf32>, tensor<2x2x2xf32>, tensor<2x6x4xf32>, tensor<3x5x6xf32>, tensor<10xf32>, tensor<2x3x4xf32>, tensor<3x4xf32>, tensor<3x4xi64>, tensor<2x3x4xf32>, tensor<1x2x3xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<3x3xi32>, tensor<8xf32>
  }
  func.func private @_pad(%arg0: tensor<2x3x4xf32>, %arg1: tensor<i64>) -> tensor<3x5x6xf32> {
    %0 = stablehlo.convert %arg1 : (tensor<i64>) -> tensor<f32>
    %1 = stablehlo.pad %arg0, %0, low = [1, 0, 1], high = [0, 2, 1], interior = [0, 0, 0] : (tensor<2x3x4xf32>, tensor<f32>) -> tensor<3x5x6xf32>
    return %1 : tensor<3x5x6xf32>
  }
}
