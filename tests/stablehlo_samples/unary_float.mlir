module @jit_unary_float attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4x8xf32>) -> (tensor<4x8xf32> {jax.result_info = "result[0]"}, tensor<4x8xf32> {jax.result_info = "result[1]"}, tensor<4x8xf32> {jax.result_info = "result[2]"}, tensor<4x8xf32> {jax.result_info = "result[3]"}, tensor<4x8xf32> {jax.result_info = "result[4]"}, tensor<4x8xf32> {jax.result_info = "result[5]"}, tensor<4x8xf32> {jax.result_info = "result[6]"}, tensor<4x8xf32> {jax.result_info = "result[7]"}, tensor<4x8xf32> {jax.result_info = "result[8]"}, tensor<4x8xf32> {jax.result_info = "result[9]"}, tensor<4x8xf32> {jax.result_info = "result[10]"}, tensor<4x8xf32> {jax.result_info = "result[11]"}, tensor<4x8xf32> {jax.result_info = "result[12]"}, tensor<4x8xf32> {jax.result_info = "result[13]"}, tensor<4x8xf32> {jax.result_info = "result[14]"}, tensor<4x8xf32> {jax.result_info = "result[15]"}, tensor<4x8xf32> {jax.result_info = "result[16]"}, tensor<4x8xf32> {jax.result_info = "result[17]"}, tensor<4x8xi1> {jax.result_info = "result[18]"}, tensor<4x8xf32> {jax.result_info = "result[19]"}) {
    %0 = stablehlo.tanh %arg0 : tensor<4x8xf32>
    %1 = stablehlo.exponential %arg0 : tensor<4x8xf32>
    %2 = stablehlo.abs %arg0 : tensor<4x8xf32>
    %cst = stablehlo.constant dense<1.000000e+00> : tensor<f32>
    %3 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> tensor<4x8xf32>
    %4 = stablehlo.add %2, %3 : tensor<4x8xf32>
    %5 = stablehlo.log %4 : tensor<4x8xf32>
    %6 = stablehlo.abs %arg0 : tensor<4x8xf32>
    %7 = stablehlo.sqrt %6 : tensor<4x8xf32>
    %8 = stablehlo.abs %arg0 : tensor<4x8xf32>
    %9 = stablehlo.sign %arg0 : tensor<4x8xf32>
    %10 = stablehlo.floor %arg0 : tensor<4x8xf32>
    %11 = stablehlo.ceil %arg0 : tensor<4x8xf32>
    %12 = call @round(%arg0) : (tensor<4x8xf32>) -> tensor<4x8xf32>
    %13 = stablehlo.round_nearest_afz %arg0 : tensor<4x8xf32>
    %14 = stablehlo.sine %arg0 : tensor<4x8xf32>
    %15 = stablehlo.cosine %arg0 : tensor<4x8xf32>
    %16 = stablehlo.tan %arg0 : tensor<4x8xf32>
    %17 = stablehlo.negate %arg0 : tensor<4x8xf32>
    %18 = stablehlo.exponential %17 : tensor<4x8xf32>
    %cst_0 = stablehlo.constant dense<1.000000e+00> : tensor<f32>
    %19 = stablehlo.broadcast_in_dim %cst_0, dims = [] : (tensor<f32>) -> tensor<4x8xf32>
    %20 = stablehlo.add %19, %18 : tensor<4x8xf32>
    %cst_1 = stablehlo.constant dense<1.000000e+00> : tensor<f32>
    %21 = stablehlo.broadcast_in_dim %cst_1, dims = [] : (tensor<f32>) -> tensor<4x8xf32>
    %22 = stablehlo.divide %21, %20 : tensor<4x8xf32>
    %23 = stablehlo.exponential_minus_one %arg0 : tensor<4x8xf32>
    %24 = stablehlo.abs %arg0 : tensor<4x8xf32>
    %25 = stablehlo.log_plus_one %24 : tensor<4x8xf32>
    %26 = stablehlo.abs %arg0 : tensor<4x8xf32>
    %cst_2 = stablehlo.constant dense<1.000000e+00> : tensor<f32>
    %27 = stablehlo.broadcast_in_dim %cst_2, dims = [] : (tensor<f32>) -> tensor<4x8xf32>
    %28 = stablehlo.add %26, %27 : tensor<4x8xf32>
    %29 = stablehlo.rsqrt %28 : tensor<4x8xf32>
    %30 = stablehlo.cbrt %arg0 : tensor<4x8xf32>
    %31 = stablehlo.slice %arg0 [0:1, 0:1] : (tensor<4x8xf32>) -> tensor<1x1xf32>
    %32 = stablehlo.reshape %31 : (tensor<1x1xf32>) -> tensor<f32>
    %33 = stablehlo.broadcast_in_dim %32, dims = [] : (tensor<f32>) -> tensor<4x8xf32>
    %34 = stablehlo.subtract %arg0, %33 : tensor<4x8xf32>
    %35 = stablehlo.divide %arg0, %34 : tensor<4x8xf32>
    %36 = stablehlo.is_finite %35 : (tensor<4x8xf32>) -> tensor<4x8xi1>
    %37 = stablehlo.negate %arg0 : tensor<4x8xf32>
    return %0, %1, %5, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %22, %23, %25, %29, %30, %36, %37 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xi1>, tensor<4x8xf32>
  }
  func.func private @round(%arg0: tensor<4x8xf32>) -> tensor<4x8xf32> {
    %0 = stablehlo.round_nearest_even %arg0 : tensor<4x8xf32>
    return %0 : tensor<4x8xf32>
  }
}
