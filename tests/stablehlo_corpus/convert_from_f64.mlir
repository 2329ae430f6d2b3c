module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<16xf64>) -> (tensor<16xi1> {jax.result_info = "result[0]"}, tensor<16xi8> {jax.result_info = "result[1]"}, tensor<16xi16> {jax.result_info = "result[2]"}, tensor<16xi32> {jax.result_info = "result[3]"}, tensor<16xi64> {jax.result_info = "result[4]"}, tensor<16xui8> {jax.result_info = "result[5]"}, tensor<16xui16> {jax.result_info = "result[6]"}, tensor<16xui32> {jax.result_info = "result[7]"}, tensor<16xui64> {jax.result_info = "result[8]"}, tensor<16xf16> {jax.result_info = "result[9]"}, tensor<16xbf16> {jax.result_info = "result[10]"}, tensor<16xf32> {jax.result_info = "result[11]"}, tensor<16xf64> {jax.result_info = "result[12]"}) {
    %cst = stablehlo.constant dense<0.000000e+00> : tensor<f64>
    %0 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f64>) -> tensor<16xf64>
    %1 = stablehlo.compare NE, %arg0, %0, FLOAT : (tensor<16xf64>, tensor<16xf64>) -> tensor<16xi1>
    %2 = stablehlo.convert %1 : tensor<16xi1>
    %3 = stablehlo.convert %arg0 : (tensor<16xf64>) -> tensor<16xi8>
    %4 = stablehlo.convert %arg0 : (tensor<16xf64>) -> tensor<16xi16>
    %5 = stablehlo.convert %arg0 : (tensor<16xf64>) -> tensor<16xi32>
    %6 = stablehlo.convert %arg0 : (tensor<16xf64>) -> tensor<16xi64>
    %7 = stablehlo.convert %arg0 : (tensor<16xf64>) -> tensor<16xui8>
    %8 = stablehlo.convert %arg0 : (tensor<16xf64>) -> tensor<16xui16>
    %9 = stablehlo.convert %arg0 : (tensor<16xf64>) -> tensor<16xui32>
    %10 = stablehlo.convert %arg0 : (tensor<16xf64>) -> tensor<16xui64>
    %11 = stablehlo.convert %arg0 : (tensor<16xf64>) -> tensor<16xf16>
    %12 = stablehlo.convert %arg0 : (tensor<16xf64>) -> tensor<16xbf16>
    %13 = stablehlo.convert %arg0 : (tensor<16xf64>) -> tensor<16xf32>
    return %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %arg0 : tensor<16xi1>, tensor<16xi8>, tensor<16xi16>, tensor<16xi32>, tensor<16xi64>, tensor<16xui8>, tensor<16xui16>, tensor<16xui32>, tensor<16xui64>, tensor<16xf16>, tensor<16xbf16>, tensor<16xf32>, tensor<16xf64>
  }
}
