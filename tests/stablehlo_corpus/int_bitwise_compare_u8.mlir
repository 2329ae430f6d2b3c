module @jit_int_bitwise attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4x8xui8>, %arg1: tensor<4x8xui8>) -> (tensor<4x8xui8> {jax.result_info = "result[0]"}, tensor<4x8xui8> {jax.result_info = "result[1]"}, tensor<4x8xui8> {jax.result_info = "result[2]"}, tensor<4x8xui8> {jax.result_info = "result[3]"}, tensor<4x8xui8> {jax.result_info = "result[4]"}, tensor<4x8xui8> {jax.result_info = "result[5]"}, tensor<4x8xi1> {jax.result_info = "result[6]"}, tensor<4x8xi1> {jax.result_info = "result[7]"}, tensor<4x8xi1> {jax.result_info = "result[8]"}, tensor<4x8xi1> {jax.result_info = "result[9]"}, tensor<4x8xi1> {jax.result_info = "result[10]"}, tensor<4x8xi1> {jax.result_info = "result[11]"}, tensor<4x8xui8> {jax.result_info = "result[12]"}) {
    %0 = stablehlo.and %arg0, %arg1 : tensor<4x8xui8>
    %1 = stablehlo.or %arg0, %arg1 : tensor<4x8xui8>
    %2 = stablehlo.xor %arg0, %arg1 : tensor<4x8xui8>
    %3 = stablehlo.not %arg0 : tensor<4x8xui8>
    %4 = stablehlo.popcnt %arg0 : tensor<4x8xui8>
    %5 = stablehlo.count_leading_zeros %arg0 : tensor<4x8xui8>
    %6 = stablehlo.compare EQ, %arg0, %arg1, UNSIGNED : (tensor<4x8xui8>, tensor<4x8xui8>) -> tensor<4x8xi1>
    %7 = stablehlo.compare NE, %arg0, %arg1, UNSIGNED : (tensor<4x8xui8>, tensor<4x8xui8>) -> tensor<4x8xi1>
    %8 = stablehlo.compare LT, %arg0, %arg1, UNSIGNED : (tensor<4x8xui8>, tensor<4x8xui8>) -> tensor<4x8xi1>
    %9 = stablehlo.compare LE, %arg0, %arg1, UNSIGNED : (tensor<4x8xui8>, tensor<4x8xui8>) -> tensor<4x8xi1>
    %10 = stablehlo.compare GT, %arg0, %arg1, UNSIGNED : (tensor<4x8xui8>, tensor<4x8xui8>) -> tensor<4x8xi1>
    %11 = stablehlo.compare GE, %arg0, %arg1, UNSIGNED : (tensor<4x8xui8>, tensor<4x8xui8>) -> tensor<4x8xi1>
    %12 = stablehlo.compare LT, %arg0, %arg1, UNSIGNED : (tensor<4x8xui8>, tensor<4x8xui8>) -> tensor<4x8xi1>
    %13 = stablehlo.select %12, %arg0, %arg1 : tensor<4x8xi1>, tensor<4x8xui8>
    return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %13 : tensor<4x8xui8>, tensor<4x8xui8>, tensor<4x8xui8>, tensor<4x8xui8>, tensor<4x8xui8>, tensor<4x8xui8>, tensor<4x8xi1>, tensor<4x8xi1>, tensor<4x8xi1>, tensor<4x8xi1>, tensor<4x8xi1>, tensor<4x8xi1>, tensor<4x8xui8>
  }
}
