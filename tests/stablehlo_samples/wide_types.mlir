module @jit_wide_types attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4x4xf64>, %arg1: tensor<3x5xf16>, %arg2: tensor<4xi64>, %arg3: tensor<4xui32>, %arg4: tensor<6xi16>) -> (tensor<4x4xf64> {jax.result_info = "result[0]"}, tensor<3xf16> {jax.result_info = "result[1]"}, tensor<4xi64> {jax.result_info = "result[2]"}, tensor<4xui32> {jax.result_info = "result[3]"}, tensor<6xi16> {jax.result_info = "result[4]"}, tensor<4x4xf64> {jax.result_info = "result[5]"}, tensor<i64> {jax.result_info = "result[6]"}, tensor<4xf64> {jax.result_info = "result[7]"}, tensor<4xui32> {jax.result_info = "result[8]"}, tensor<6xi8> {jax.result_info = "result[9]"}) {
    %0 = stablehlo.transpose %arg0, dims = [1, 0] : (tensor<4x4xf64>) -> tensor<4x4xf64>
    %1 = stablehlo.dot_general %arg0, %0, contracting_dims = [1] x [0], precision = [DEFAULT, DEFAULT] : (tensor<4x4xf64>, tensor<4x4xf64>) -> tensor<4x4xf64>
    %cst = stablehlo.constant dense<1.000000e+00> : tensor<f64>
    %2 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f64>) -> tensor<4x4xf64>
    %3 = stablehlo.add %1, %2 : tensor<4x4xf64>
    %4 = stablehlo.multiply %arg1, %arg1 : tensor<3x5xf16>
    %5 = stablehlo.convert %4 : (tensor<3x5xf16>) -> tensor<3x5xf32>
    %cst_0 = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %6 = stablehlo.reduce(%5 init: %cst_0) applies stablehlo.add across dimensions = [1] : (tensor<3x5xf32>, tensor<f32>) -> tensor<3xf32>
    %7 = stablehlo.convert %6 : (tensor<3xf32>) -> tensor<3xf16>
    %8 = stablehlo.multiply %arg2, %arg2 : tensor<4xi64>
    %c = stablehlo.constant dense<3> : tensor<i64>
    %9 = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<i64>) -> tensor<4xi64>
    %10 = stablehlo.subtract %8, %9 : tensor<4xi64>
    %c_1 = stablehlo.constant dense<7> : tensor<ui32>
    %11 = stablehlo.broadcast_in_dim %c_1, dims = [] : (tensor<ui32>) -> tensor<4xui32>
    %12 = stablehlo.multiply %arg3, %11 : tensor<4xui32>
    %c_2 = stablehlo.constant dense<1> : tensor<ui32>
    %13 = stablehlo.broadcast_in_dim %c_2, dims = [] : (tensor<ui32>) -> tensor<4xui32>
    %14 = stablehlo.add %12, %13 : tensor<4xui32>
    %15 = stablehlo.multiply %arg4, %arg4 : tensor<6xi16>
    %16 = stablehlo.multiply %arg0, %arg0 : tensor<4x4xf64>
    %17 = stablehlo.sqrt %16 : tensor<4x4xf64>
    %cst_3 = stablehlo.constant dense<0.000000e+00> : tensor<f16>
    %18 = stablehlo.broadcast_in_dim %cst_3, dims = [] : (tensor<f16>) -> tensor<3x5xf16>
    %19 = stablehlo.compare GT, %arg1, %18, FLOAT : (tensor<3x5xf16>, tensor<3x5xf16>) -> tensor<3x5xi1>
    %20 = stablehlo.convert %19 : (tensor<3x5xi1>) -> tensor<3x5xi32>
    %21 = stablehlo.convert %20 : (tensor<3x5xi32>) -> tensor<3x5xi64>
    %c_4 = stablehlo.constant dense<0> : tensor<i64>
    %22 = stablehlo.reduce(%21 init: %c_4) applies stablehlo.add across dimensions = [0, 1] : (tensor<3x5xi64>, tensor<i64>) -> tensor<i64>
    %23 = stablehlo.convert %arg2 : (tensor<4xi64>) -> tensor<4xf64>
    %cst_5 = stablehlo.constant dense<3.000000e+00> : tensor<f64>
    %24 = stablehlo.broadcast_in_dim %cst_5, dims = [] : (tensor<f64>) -> tensor<4xf64>
    %25 = stablehlo.divide %23, %24 : tensor<4xf64>
    %c_6 = stablehlo.constant dense<1> : tensor<ui32>
    %26 = stablehlo.broadcast_in_dim %c_6, dims = [] : (tensor<ui32>) -> tensor<4xui32>
    %27 = stablehlo.shift_right_logical %arg3, %26 : tensor<4xui32>
    %28 = stablehlo.convert %arg4 : (tensor<6xi16>) -> tensor<6xi8>
    return %3, %7, %10, %14, %15, %17, %22, %25, %27, %28 : tensor<4x4xf64>, tensor<3xf16>, tensor<4xi64>, tensor<4xui32>, tensor<6xi16>, tensor<4x4xf64>, tensor<i64>, tensor<4xf64>, tensor<4xui32>, tensor<6xi8>
  }
}
