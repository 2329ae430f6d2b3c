module @jit_int_arith attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4x8xui16>, %arg1: tensor<4x8xui16>) -> (tensor<4x8xui16> {jax.result_info = "result[0]"}, tensor<4x8xui16> {jax.result_info = "result[1]"}, tensor<4x8xui16> {jax.result_info = "result[2]"}, tensor<4x8xui16> {jax.result_info = "result[3]"}, tensor<4x8xui16> {jax.result_info = "result[4]"}, tensor<4x8xui16> {jax.result_info = "result[5]"}, tensor<4x8xui16> {jax.result_info = "result[6]"}, tensor<4x8xui16> {jax.result_info = "result[7]"}, tensor<4x8xui16> {jax.result_info = "result[8]"}, tensor<4x8xui16> {jax.result_info = "result[9]"}, tensor<4x8xui16> {jax.result_info = "result[10]"}) {
    %0 = stablehlo.add %arg0, %arg1 : tensor<4x8xui16>
    %1 = stablehlo.subtract %arg0, %arg1 : tensor<4x8xui16>
    %2 = stablehlo.multiply %arg0, %arg1 : tensor<4x8xui16>
    %3 = stablehlo.divide %arg0, %arg1 : tensor<4x8xui16>
    %4 = stablehlo.remainder %arg0, %arg1 : tensor<4x8xui16>
    %5 = stablehlo.maximum %arg0, %arg1 : tensor<4x8xui16>
    %6 = stablehlo.minimum %arg0, %arg1 : tensor<4x8xui16>
    %7 = stablehlo.negate %arg0 : tensor<4x8xui16>
    %c = stablehlo.constant dense<0> : tensor<ui16>
    %8 = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<ui16>) -> tensor<4x8xui16>
    %9 = stablehlo.compare EQ, %arg0, %8, UNSIGNED : (tensor<4x8xui16>, tensor<4x8xui16>) -> tensor<4x8xi1>
    %c_0 = stablehlo.constant dense<0> : tensor<ui16>
    %10 = stablehlo.broadcast_in_dim %c_0, dims = [] : (tensor<ui16>) -> tensor<4x8xui16>
    %c_1 = stablehlo.constant dense<1> : tensor<ui16>
    %11 = stablehlo.broadcast_in_dim %c_1, dims = [] : (tensor<ui16>) -> tensor<4x8xui16>
    %12 = stablehlo.select %9, %10, %11 : tensor<4x8xi1>, tensor<4x8xui16>
    %c_2 = stablehlo.constant dense<10> : tensor<ui16>
    %13 = stablehlo.broadcast_in_dim %c_2, dims = [] : (tensor<ui16>) -> tensor<4x8xui16>
    %14 = stablehlo.add %arg1, %13 : tensor<4x8xui16>
    %15 = stablehlo.clamp %arg1, %arg0, %14 : tensor<4x8xui16>
    return %0, %1, %2, %3, %4, %5, %6, %7, %arg0, %12, %15 : tensor<4x8xui16>, tensor<4x8xui16>, tensor<4x8xui16>, tensor<4x8xui16>, tensor<4x8xui16>, tensor<4x8xui16>, tensor<4x8xui16>, tensor<4x8xui16>, tensor<4x8xui16>, tensor<4x8xui16>, tensor<4x8xui16>
  }
}
