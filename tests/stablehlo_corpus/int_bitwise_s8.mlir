module @jit_int_bitwise attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4x8xi8>, %arg1: tensor<4x8xi8>) -> (tensor<4x8xi8> {jax.result_info = "result[0]"}, tensor<4x8xi8> {jax.result_info = "result[1]"}, tensor<4x8xi8> {jax.result_info = "result[2]"}, tensor<4x8xi8> {jax.result_info = "result[3]"}, tensor<4x8xi8> {jax.result_info = "result[4]"}, tensor<4x8xi8> {jax.result_info = "result[5]"}) {
    %0 = stablehlo.and %arg0, %arg1 : tensor<4x8xi8>
    %1 = stablehlo.or %arg0, %arg1 : tensor<4x8xi8>
    %2 = stablehlo.xor %arg0, %arg1 : tensor<4x8xi8>
    %3 = stablehlo.not %arg0 : tensor<4x8xi8>
    %4 = stablehlo.popcnt %arg0 : tensor<4x8xi8>
    %5 = stablehlo.count_leading_zeros %arg0 : tensor<4x8xi8>
    return %0, %1, %2, %3, %4, %5 : tensor<4x8xi8>, tensor<4x8xi8>, tensor<4x8xi8>, tensor<4x8xi8>, tensor<4x8xi8>, tensor<4x8xi8>
  }
}
