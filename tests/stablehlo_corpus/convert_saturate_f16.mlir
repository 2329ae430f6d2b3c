module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<16xf16>) -> (tensor<16xi8> {jax.result_info = "result[0]"}, tensor<16xi32> {jax.result_info = "result[1]"}, tensor<16xi64> {jax.result_info = "result[2]"}, tensor<16xui8> {jax.result_info = "result[3]"}, tensor<16xui32> {jax.result_info = "result[4]"}, tensor<16xui64> {jax.result_info = "result[5]"}, tensor<16xi1> {jax.result_info = "result[6]"}, tensor<16xf16> {jax.result_info = "result[7]"}, tensor<16xbf16> {jax.result_info = "result[8]"}) {
    %0 = stablehlo.convert %arg0 : (tensor<16xf16>) -> tensor<16xi8>
    %1 = stablehlo.convert %arg0 : (tensor<16xf16>) -> tensor<16xi32>
    %2 = stablehlo.convert %arg0 : (tensor<16xf16>) -> tensor<16xi64>
    %3 = stablehlo.convert %arg0 : (tensor<16xf16>) -> tensor<16xui8>
    %4 = stablehlo.convert %arg0 : (tensor<16xf16>) -> tensor<16xui32>
    %5 = stablehlo.convert %arg0 : (tensor<16xf16>) -> tensor<16xui64>
    %cst = stablehlo.constant dense<0.000000e+00> : tensor<f16>
    %6 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f16>) -> tensor<16xf16>
    %7 = stablehlo.compare NE, %arg0, %6, FLOAT : (tensor<16xf16>, tensor<16xf16>) -> tensor<16xi1>
    %8 = stablehlo.convert %7 : tensor<16xi1>
    %9 = stablehlo.convert %arg0 : (tensor<16xf16>) -> tensor<16xbf16>
    return %0, %1, %2, %3, %4, %5, %8, %arg0, %9 : tensor<16xi8>, tensor<16xi32>, tensor<16xi64>, tensor<16xui8>, tensor<16xui32>, tensor<16xui64>, tensor<16xi1>, tensor<16xf16>, tensor<16xbf16>
  }
}
