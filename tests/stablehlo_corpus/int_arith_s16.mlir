module @jit_int_arith attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4x8xi16>, %arg1: tensor<4x8xi16>) -> (tensor<4x8xi16> {jax.result_info = "result[0]"}, tensor<4x8xi16> {jax.result_info = "result[1]"}, tensor<4x8xi16> {jax.result_info = "result[2]"}, tensor<4x8xi16> {jax.result_info = "result[3]"}, tensor<4x8xi16> {jax.result_info = "result[4]"}, tensor<4x8xi16> {jax.result_info = "result[5]"}, tensor<4x8xi16> {jax.result_info = "result[6]"}, tensor<4x8xi16> {jax.result_info = "result[7]"}, tensor<4x8xi16> {jax.result_info = "result[8]"}, tensor<4x8xi16> {jax.result_info = "result[9]"}, tensor<4x8xi16> {jax.result_info = "result[10]"}) {
    %0 = stablehlo.add %arg0, %arg1 : tensor<4x8xi16>
    %1 = stablehlo.subtract %arg0, %arg1 : tensor<4x8xi16>
    %2 = stablehlo.multiply %arg0, %arg1 : tensor<4x8xi16>
    %3 = stablehlo.divide %arg0, %arg1 : tensor<4x8xi16>
    %4 = stablehlo.remainder %arg0, %arg1 : tensor<4x8xi16>
    %5 = stablehlo.maximum %arg0, %arg1 : tensor<4x8xi16>
    %6 = stablehlo.minimum %arg0, %arg1 : tensor<4x8xi16>
    %7 = stablehlo.negate %arg0 : tensor<4x8xi16>
    %8 = stablehlo.abs %arg0 : tensor<4x8xi16>
    %9 = stablehlo.sign %arg0 : tensor<4x8xi16>
    %c = stablehlo.constant dense<10> : tensor<i16>
    %10 = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<i16>) -> tensor<4x8xi16>
    %11 = stablehlo.add %arg1, %10 : tensor<4x8xi16>
    %12 = stablehlo.clamp %arg1, %arg0, %11 : tensor<4x8xi16>
    return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %12 : tensor<4x8xi16>, tensor<4x8xi16>, tensor<4x8xi16>, tensor<4x8xi16>, tensor<4x8xi16>, tensor<4x8xi16>, tensor<4x8xi16>, tensor<4x8xi16>, tensor<4x8xi16>, tensor<4x8xi16>, tensor<4x8xi16>
  }
}
