module @jit_int_arith attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4x8xui8>, %arg1: tensor<4x8xui8>) -> (tensor<4x8xui8> {jax.result_info = "result[0]"}, tensor<4x8xui8> {jax.result_info = "result[1]"}, tensor<4x8xui8> {jax.result_info = "result[2]"}, tensor<4x8xui8> {jax.result_info = "result[3]"}, tensor<4x8xui8> {jax.result_info = "result[4]"}, tensor<4x8xui8> {jax.result_info = "result[5]"}, tensor<4x8xui8> {jax.result_info = "result[6]"}, tensor<4x8xui8> {jax.result_info = "result[7]"}, tensor<4x8xui8> {jax.result_info = "result[8]"}, tensor<4x8xui8> {jax.result_info = "result[9]"}, tensor<4x8xui8> {jax.result_info = "result[10]"}) {
    %0 = stablehlo.add %arg0, %arg1 : tensor<4x8xui8>
    %1 = stablehlo.subtract %arg0, %arg1 : tensor<4x8xui8>
    %2 = stablehlo.multiply %arg0, %arg1 : tensor<4x8xui8>
    %3 = stablehlo.divide %arg0, %arg1 : tensor<4x8xui8>
    %4 = stablehlo.remainder %arg0, %arg1 : tensor<4x8xui8>
    %5 = stablehlo.maximum %arg0, %arg1 : tensor<4x8xui8>
    %6 = stablehlo.minimum %arg0, %arg1 : tensor<4x8xui8>
    %7 = stablehlo.negate %arg0 : tensor<4x8xui8>
    %c = stablehlo.constant dense<0> : tensor<ui8>
    %8 = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<ui8>) -> tensor<4x8xui8>
    %9 = stablehlo.compare EQ, %arg0, %8, UNSIGNED : (tensor<4x8xui8>, tensor<4x8xui8>) -> tensor<4x8xi1>
    %c_0 = stablehlo.constant dense<0> : tensor<ui8>
    %10 = stablehlo.broadcast_in_dim %c_0, dims = [] : (tensor<ui8>) -> tensor<4x8xui8>
    %c_1 = stablehlo.constant dense<1> : tensor<ui8>
    %11 = stablehlo.broadcast_in_dim %c_1, dims = [] : (tensor<ui8>) -> tensor<4x8xui8>
    %12 = stablehlo.select %9, %10, %11 : tensor<4x8xi1>, tensor<4x8xui8>
    %c_2 = stablehlo.constant dense<10> : tensor<ui8>
    %13 = stablehlo.broadcast_in_dim %c_2, dims = [] : (tensor<ui8>) -> tensor<4x8xui8>
    %14 = stablehlo.add %arg1, %13 : tensor<4x8xui8>
    %15 = stablehlo.clamp %arg1, %arg0, %14 : tensor<4x8xui8>
    return %0, %1, %2, %3, %4, %5, %6, %7, %arg0, %12, %15 : tensor<4x8xui8>, tensor<4x8xui8>, tensor<4x8xui8>, tensor<4x8xui8>, tensor<4x8xui8>, tensor<4x8xui8>, tensor<4x8xui8>, tensor<4x8xui8>, tensor<4x8xui8>, tensor<4x8xui8>, tensor<4x8xui8>
  }
}
