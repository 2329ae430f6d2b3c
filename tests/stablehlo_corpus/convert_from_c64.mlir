module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<16xcomplex<f32>>) -> (tensor<16xi1> {jax.result_info = "result[0]"}, tensor<16xi8> {jax.result_info = "result[1]"}, tensor<16xi16> {jax.result_info = "result[2]"}, tensor<16xi32> {jax.result_info = "result[3]"}, tensor<16xi64> {jax.result_info = "result[4]"}, tensor<16xui8> {jax.result_info = "result[5]"}, tensor<16xui16> {jax.result_info = "result[6]"}, tensor<16xui32> {jax.result_info = "result[7]"}, tensor<16xui64> {jax.result_info = "result[8]"}, tensor<16xf16> {jax.result_info = "result[9]"}, tensor<16xbf16> {jax.result_info = "result[10]"}, tensor<16xf32> {jax.result_info = "result[11]"}, tensor<16xf64> {jax.result_info = "result[12]"}, tensor<16xcomplex<f32>> {jax.result_info = "result[13]"}, tensor<16xcomplex<f64>> {jax.result_info = "result[14]"}, tensor<16xf8E4M3FN> {jax.result_info = "result[15]"}, tensor<16xf8E5M2> {jax.result_info = "result[16]"}, tensor<16xi4> {jax.result_info = "result[17]"}, tensor<16xui4> {jax.result_info = "result[18]"}) {
    %0 = stablehlo.real %arg0 : (tensor<16xcomplex<f32>>) -> tensor<16xf32>
    %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %1 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> tensor<16xf32>
    %2 = stablehlo.compare NE, %0, %1, FLOAT : (tensor<16xf32>, tensor<16xf32>) -> tensor<16xi1>
    %3 = stablehlo.convert %2 : tensor<16xi1>
    %4 = stablehlo.real %arg0 : (tensor<16xcomplex<f32>>) -> tensor<16xf32>
    %5 = stablehlo.convert %4 : (tensor<16xf32>) -> tensor<16xi8>
    %6 = stablehlo.real %arg0 : (tensor<16xcomplex<f32>>) -> tensor<16xf32>
    %7 = stablehlo.convert %6 : (tensor<16xf32>) -> tensor<16xi16>
    %8 = stablehlo.real %arg0 : (tensor<16xcomplex<f32>>) -> tensor<16xf32>
    %9 = stablehlo.convert %8 : (tensor<16xf32>) -> tensor<16xi32>
    %10 = stablehlo.real %arg0 : (tensor<16xcomplex<f32>>) -> tensor<16xf32>
    %11 = stablehlo.convert %10 : (tensor<16xf32>) -> tensor<16xi64>
    %12 = stablehlo.real %arg0 : (tensor<16xcomplex<f32>>) -> tensor<16xf32>
    %13 = stablehlo.convert %12 : (tensor<16xf32>) -> tensor<16xui8>
    %14 = stablehlo.real %arg0 : (tensor<16xcomplex<f32>>) -> tensor<16xf32>
    %15 = stablehlo.convert %14 : (tensor<16xf32>) -> tensor<16xui16>
    %16 = stablehlo.real %arg0 : (tensor<16xcomplex<f32>>) -> tensor<16xf32>
    %17 = stablehlo.convert %16 : (tensor<16xf32>) -> tensor<16xui32>
    %18 = stablehlo.real %arg0 : (tensor<16xcomplex<f32>>) -> tensor<16xf32>
    %19 = stablehlo.convert %18 : (tensor<16xf32>) -> tensor<16xui64>
    %20 = stablehlo.real %arg0 : (tensor<16xcomplex<f32>>) -> tensor<16xf32>
    %21 = stablehlo.convert %20 : (tensor<16xf32>) -> tensor<16xf16>
    %22 = stablehlo.real %arg0 : (tensor<16xcomplex<f32>>) -> tensor<16xf32>
    %23 = stablehlo.convert %22 : (tensor<16xf32>) -> tensor<16xbf16>
    %24 = stablehlo.real %arg0 : (tensor<16xcomplex<f32>>) -> tensor<16xf32>
    %25 = stablehlo.convert %24 : tensor<16xf32>
    %26 = stablehlo.real %arg0 : (tensor<16xcomplex<f32>>) -> tensor<16xf32>
    %27 = stablehlo.convert %26 : (tensor<16xf32>) -> tensor<16xf64>
    %28 = stablehlo.convert %arg0 : (tensor<16xcomplex<f32>>) -> tensor<16xcomplex<f64>>
    %29 = stablehlo.real %arg0 : (tensor<16xcomplex<f32>>) -> tensor<16xf32>
    %30 = stablehlo.convert %29 : (tensor<16xf32>) -> tensor<16xf8E4M3FN>
    %31 = stablehlo.real %arg0 : (tensor<16xcomplex<f32>>) -> tensor<16xf32>
    %32 = stablehlo.convert %31 : (tensor<16xf32>) -> tensor<16xf8E5M2>
    %33 = stablehlo.real %arg0 : (tensor<16xcomplex<f32>>) -> tensor<16xf32>
    %34 = stablehlo.convert %33 : (tensor<16xf32>) -> tensor<16xi4>
    %35 = stablehlo.real %arg0 : (tensor<16xcomplex<f32>>) -> tensor<16xf32>
    %36 = stablehlo.convert %35 : (tensor<16xf32>) -> tensor<16xui4>
    return %3, %5, %7, %9, %11, %13, %15, %17, %19, %21, %23, %25, %27, %arg0, %28, %30, %32, %34, %36 : tensor<16xi1>, tensor<16xi8>, tensor<16xi16>, tensor<16xi32>, tensor<16xi64>, tensor<16xui8>, tensor<16xui16>, tensor<16xui32>, tensor<16xui64>, tensor<16xf16>, tensor<16xbf16>, tensor<16xf32>, tensor<16xf64>, tensor<16xcomplex<f32>>, tensor<16xcomplex<f64>>, tensor<16xf8E4M3FN>, tensor<16xf8E5M2>, tensor<16xi4>, tensor<16xui4>
  }
}
