module @jit_converts attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<2x5xf32>) -> (tensor<2x5xbf16> {jax.result_info = "result[0]"}, tensor<2x5xf16> {jax.result_info = "result[1]"}, tensor<2x5xi32> {jax.result_info = "result[2]"}, tensor<2x5xui8> {jax.result_info = "result[3]"}, tensor<2x5xf64> {jax.result_info = "result[4]"}, tensor<2x5xf32> {jax.result_info = "result[5]"}, tensor<2x5xf32> {jax.result_info = "result[6]"}, tensor<2x5xi32> {jax.result_info = "result[7]"}, tensor<2x5xf32> {jax.result_info = "result[8]"}, tensor<2x5xf32> {jax.result_info = "result[9]"}, tensor<2x5xi64> {jax.result_info = "result[10]"}, tensor<2x5xi16> {jax.result_info = "result[11]"}) {
    %0 = stablehlo.convert %arg0 : (tensor<2x5xf32>) -> tensor<2x5xbf16>
    %1 = stablehlo.convert %arg0 : (tensor<2x5xf32>) -> tensor<2x5xf16>
    %2 = stablehlo.convert %arg0 : (tensor<2x5xf32>) -> tensor<2x5xi32>
    %3 = stablehlo.convert %arg0 : (tensor<2x5xf32>) -> tensor<2x5xui8>
    %4 = stablehlo.convert %arg0 : (tensor<2x5xf32>) -> tensor<2x5xf64>
    %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %5 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> tensor<2x5xf32>
    %6 = stablehlo.compare GT, %arg0, %5, FLOAT : (tensor<2x5xf32>, tensor<2x5xf32>) -> tensor<2x5xi1>
    %7 = stablehlo.convert %6 : (tensor<2x5xi1>) -> tensor<2x5xf32>
    %8 = stablehlo.convert %arg0 : (tensor<2x5xf32>) -> tensor<2x5xi8>
    %9 = stablehlo.convert %8 : (tensor<2x5xi8>) -> tensor<2x5xf32>
    %10 = stablehlo.bitcast_convert %arg0 : (tensor<2x5xf32>) -> tensor<2x5xi32>
    %11 = stablehlo.reduce_precision %arg0, format = e5m10 : tensor<2x5xf32>
    %12 = stablehlo.convert %arg0 : (tensor<2x5xf32>) -> tensor<2x5xf8E4M3FN>
    %13 = stablehlo.convert %12 : (tensor<2x5xf8E4M3FN>) -> tensor<2x5xf32>
    %14 = stablehlo.convert %arg0 : (tensor<2x5xf32>) -> tensor<2x5xi64>
    %15 = stablehlo.convert %arg0 : (tensor<2x5xf32>) -> tensor<2x5xi16>
    return %0, %1, %2, %3, %4, %7, %9, %10, %11, %13, %14, %15 : tensor<2x5xbf16>, tensor<2x5xf16>, tensor<2x5xi32>, tensor<2x5xui8>, tensor<2x5xf64>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xi32>, tensor<2x5xf32>, tensor<2x5xf32>, tensor<2x5xi64>, tensor<2x5xi16>
  }
}
