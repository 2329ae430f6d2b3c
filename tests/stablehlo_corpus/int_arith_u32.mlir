module @jit_int_arith attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4x8xui32>, %arg1: tensor<4x8xui32>) -> (tensor<4x8xui32> {jax.result_info = "result[0]"}, tensor<4x8xui32> {jax.result_info = "result[1]"}, tensor<4x8xui32> {jax.result_info = "result[2]"}, tensor<4x8xui32> {jax.result_info = "result[3]"}, tensor<4x8xui32> {jax.result_info = "result[4]"}, tensor<4x8xui32> {jax.result_info = "result[5]"}, tensor<4x8xui32> {jax.result_info = "result[6]"}, tensor<4x8xui32> {jax.result_info = "result[7]"}, tensor<4x8xui32> {jax.result_info = "result[8]"}, tensor<4x8xui32> {jax.result_info = "result[9]"}, tensor<4x8xui32> {jax.result_info = "result[10]"}) {
    %0 = stablehlo.add %arg0, %arg1 : tensor<4x8xui32>
    %1 = stablehlo.subtract %arg0, %arg1 : tensor<4x8xui32>
    %2 = stablehlo.multiply %arg0, %arg1 : tensor<4x8xui32>
    %3 = stablehlo.divide %arg0, %arg1 : tensor<4x8xui32>
    %4 = stablehlo.remainder %arg0, %arg1 : tensor<4x8xui32>
    %5 = stablehlo.maximum %arg0, %arg1 : tensor<4x8xui32>
    %6 = stablehlo.minimum %arg0, %arg1 : tensor<4x8xui32>
    %7 = stablehlo.negate %arg0 : tensor<4x8xui32>
    %c = stablehlo.constant dense<0> : tensor<ui32>
    %8 = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<ui32>) -> tensor<4x8xui32>
    %9 = stablehlo.compare EQ, %arg0, %8, UNSIGNED : (tensor<4x8xui32>, tensor<4x8xui32>) -> tensor<4x8xi1>
    %c_0 = stablehlo.constant dense<0> : tensor<ui32>
    %10 = stablehlo.broadcast_in_dim %c_0, dims = [] : (tensor<ui32>) -> tensor<4x8xui32>
    %c_1 = stablehlo.constant dense<1> : tensor<ui32>
    %11 = stablehlo.broadcast_in_dim %c_1, dims = [] : (tensor<ui32>) -> tensor<4x8xui32>
    %12 = stablehlo.select %9, %10, %11 : tensor<4x8xi1>, tensor<4x8xui32>
    %c_2 = stablehlo.constant dense<10> : tensor<ui32>
    %13 = stablehlo.broadcast_in_dim %c_2, dims = [] : (tensor<ui32>) -> tensor<4x8xui32>
    %14 = stablehlo.add %arg1, %13 : tensor<4x8xui32>
    %15 = stablehlo.clamp %arg1, %arg0, %14 : tensor<4x8xui32>
    return %0, %1, %2, %3, %4, %5, %6, %7, %arg0, %12, %15 : tensor<4x8xui32>, tensor<4x8xui32>, tensor<4x8xui32>, tensor<4x8xui32>, tensor<4x8xui32>, tensor<4x8xui32>, tensor<4x8xui32>, tensor<4x8xui32>, tensor<4x8xui32>, tensor<4x8xui32>, tensor<4x8xui32>
  }
}
