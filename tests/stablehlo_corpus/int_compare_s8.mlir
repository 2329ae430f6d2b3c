module @jit_int_compare attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4x8xi8>, %arg1: tensor<4x8xi8>) -> (tensor<4x8xi1> {jax.result_info = "result[0]"}, tensor<4x8xi1> {jax.result_info = "result[1]"}, tensor<4x8xi1> {jax.result_info = "result[2]"}, tensor<4x8xi1> {jax.result_info = "result[3]"}, tensor<4x8xi1> {jax.result_info = "result[4]"}, tensor<4x8xi1> {jax.result_info = "result[5]"}, tensor<4x8xi8> {jax.result_info = "result[6]"}) {
    %0 = stablehlo.compare EQ, %arg0, %arg1, SIGNED : (tensor<4x8xi8>, tensor<4x8xi8>) -> tensor<4x8xi1>
    %1 = stablehlo.compare NE, %arg0, %arg1, SIGNED : (tensor<4x8xi8>, tensor<4x8xi8>) -> tensor<4x8xi1>
    %2 = stablehlo.compare LT, %arg0, %arg1, SIGNED : (tensor<4x8xi8>, tensor<4x8xi8>) -> tensor<4x8xi1>
    %3 = stablehlo.compare LE, %arg0, %arg1, SIGNED : (tensor<4x8xi8>, tensor<4x8xi8>) -> tensor<4x8xi1>
    %4 = stablehlo.compare GT, %arg0, %arg1, SIGNED : (tensor<4x8xi8>, tensor<4x8xi8>) -> tensor<4x8xi1>
    %5 = stablehlo.compare GE, %arg0, %arg1, SIGNED : (tensor<4x8xi8>, tensor<4x8xi8>) -> tensor<4x8xi1>
    %6 = stablehlo.compare LT, %arg0, %arg1, SIGNED : (tensor<4x8xi8>, tensor<4x8xi8>) -> tensor<4x8xi1>
    %7 = stablehlo.select %6, %arg0, %arg1 : tensor<4x8xi1>, tensor<4x8xi8>
    return %0, %1, %2, %3, %4, %5, %7 : tensor<4x8xi1>, tensor<4x8xi1>, tensor<4x8xi1>, tensor<4x8xi1>, tensor<4x8xi1>, tensor<4x8xi1>, tensor<4x8xi8>
  }
}
