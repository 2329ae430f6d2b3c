module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4x8xf32>) -> (tensor<4xi64> {jax.result_info = "result[0]"}, tensor<8xf64> {jax.result_info = "result[1]"}) {
    %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %0 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> tensor<4x8xf32>
    %1 = stablehlo.compare GT, %arg0, %0, FLOAT : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xi1>
    %2 = call @count_nonzero(%1) : (tensor<4x8xi1>) -> tensor<4xi64>
    %3 = stablehlo.iota dim = 0 : tensor<4xf64>
    %4 = stablehlo.convert %arg0 : (tensor<4x8xf32>) -> tensor<4x8xf64>
    %5 = stablehlo.reshape %3 : (tensor<4xf64>) -> tensor<4x1xf64>
    %cst_0 = stablehlo.constant dense<0.000000e+00> : tensor<f64>
    %6 = stablehlo.reduce(%5 init: %cst_0) applies stablehlo.add across dimensions = [0] : (tensor<4x1xf64>, tensor<f64>) -> tensor<1xf64>
    %7 = stablehlo.broadcast_in_dim %5, dims = [0, 1] : (tensor<4x1xf64>) -> tensor<4x8xf64>
    %8 = stablehlo.multiply %4, %7 : tensor<4x8xf64>
    %cst_1 = stablehlo.constant dense<0.000000e+00> : tensor<f64>
    %9 = stablehlo.reduce(%8 init: %cst_1) applies stablehlo.add across dimensions = [0] : (tensor<4x8xf64>, tensor<f64>) -> tensor<8xf64>
    %10 = stablehlo.broadcast_in_dim %6, dims = [0] : (tensor<1xf64>) -> tensor<8xf64>
    %11 = stablehlo.divide %9, %10 : tensor<8xf64>
    return %2, %11 : tensor<4xi64>, tensor<8xf64>
  }
  func.func private @count_nonzero(%arg0: tensor<4x8xi1>) -> tensor<4xi64> {
    %c = stablehlo.constant dense<false> : tensor<i1>
    %0 = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<i1>) -> tensor<4x8xi1>
    %1 = stablehlo.compare NE, %arg0, %0, UNSIGNED : (tensor<4x8xi1>, tensor<4x8xi1>) -> tensor<4x8xi1>
    %2 = stablehlo.convert %1 : (tensor<4x8xi1>) -> tensor<4x8xi32>
    %3 = stablehlo.convert %2 : (tensor<4x8xi32>) -> tensor<4x8xi64>
    %c_0 = stablehlo.constant dense<0> : tensor<i64>
    %4 = stablehlo.reduce(%3 init: %c_0) applies stablehlo.add across dimensions = [1] : (tensor<4x8xi64>, tensor<i64>) -> tensor<4xi64>
    return %4 : tensor<4xi64>
  }
}
