module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<i32>) -> (tensor<3x5xf32> {jax.result_info = "result[0]"}, tensor<6xf32> {jax.result_info = "result[1]"}, tensor<3x5xf16> {jax.result_info = "result[2]"}, tensor<6xf16> {jax.result_info = "result[3]"}, tensor<3x5xbf16> {jax.result_info = "result[4]"}, tensor<6xbf16> {jax.result_info = "result[5]"}, tensor<3x5xf64> {jax.result_info = "result[6]"}, tensor<6xf64> {jax.result_info = "result[7]"}) {
    %0 = stablehlo.iota dim = 1 : tensor<3x5xf32>
    %1 = stablehlo.convert %arg0 : (tensor<i32>) -> tensor<f32>
    %2 = stablehlo.broadcast_in_dim %1, dims = [] : (tensor<f32>) -> tensor<3x5xf32>
    %3 = stablehlo.add %0, %2 : tensor<3x5xf32>
    %4 = stablehlo.iota dim = 0 : tensor<6xf32>
    %5 = stablehlo.iota dim = 1 : tensor<3x5xf16>
    %6 = stablehlo.convert %arg0 : (tensor<i32>) -> tensor<f16>
    %7 = stablehlo.broadcast_in_dim %6, dims = [] : (tensor<f16>) -> tensor<3x5xf16>
    %8 = stablehlo.add %5, %7 : tensor<3x5xf16>
    %9 = stablehlo.iota dim = 0 : tensor<6xf16>
    %10 = stablehlo.iota dim = 1 : tensor<3x5xbf16>
    %11 = stablehlo.convert %arg0 : (tensor<i32>) -> tensor<bf16>
    %12 = stablehlo.broadcast_in_dim %11, dims = [] : (tensor<bf16>) -> tensor<3x5xbf16>
    %13 = stablehlo.add %10, %12 : tensor<3x5xbf16>
    %14 = stablehlo.iota dim = 0 : tensor<6xbf16>
    %15 = stablehlo.iota dim = 1 : tensor<3x5xf64>
    %16 = stablehlo.convert %arg0 : (tensor<i32>) -> tensor<f64>
    %17 = stablehlo.broadcast_in_dim %16, dims = [] : (tensor<f64>) -> tensor<3x5xf64>
    %18 = stablehlo.add %15, %17 : tensor<3x5xf64>
    %19 = stablehlo.iota dim = 0 : tensor<6xf64>
    return %3, %4, %8, %9, %13, %14, %18, %19 : tensor<3x5xf32>, tensor<6xf32>, tensor<3x5xf16>, tensor<6xf16>, tensor<3x5xbf16>, tensor<6xbf16>, tensor<3x5xf64>, tensor<6xf64>
  }
}
