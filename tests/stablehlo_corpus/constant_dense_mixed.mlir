module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<3x4xi8>) -> (tensor<3x4xi8> {jax.result_info = "result[0]"}, tensor<3x4xi8> {jax.result_info = "result[1]"}, tensor<3x4xf16> {jax.result_info = "result[2]"}) {
    %c = stablehlo.constant dense<[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]> : tensor<3x4xi8>
    %c_0 = stablehlo.constant dense<[[true, false, false, false], [false, true, false, false], [false, false, true, false]]> : tensor<3x4xi1>
    %cst = stablehlo.constant dense<[5.000000e-01, -1.500000e+00, 2.000000e+00, 6.550400e+04]> : tensor<4xf16>
    %0 = stablehlo.add %arg0, %c : tensor<3x4xi8>
    %c_1 = stablehlo.constant dense<0> : tensor<i64>
    %1 = call @_where(%c_0, %arg0, %c_1) : (tensor<3x4xi1>, tensor<3x4xi8>, tensor<i64>) -> tensor<3x4xi8>
    %2 = stablehlo.convert %arg0 : (tensor<3x4xi8>) -> tensor<3x4xf16>
    %3 = stablehlo.broadcast_in_dim %cst, dims = [1] : (tensor<4xf16>) -> tensor<1x4xf16>
    %4 = stablehlo.broadcast_in_dim %3, dims = [0, 1] : (tensor<1x4xf16>) -> tensor<3x4xf16>
    %5 = stablehlo.multiply %2, %4 : tensor<3x4xf16>
    return %0, %1, %5 : tensor<3x4xi8>, tensor<3x4xi8>, tensor<3x4xf16>
  }
  func.func private @_where(%arg0: tensor<3x4xi1>, %arg1: tensor<3x4xi8>, %arg2: tensor<i64>) -> tensor<3x4xi8> {
    %0 = stablehlo.convert %arg2 : (tensor<i64>) -> tensor<i8>
    %1 = stablehlo.broadcast_in_dim %0, dims = [] : (tensor<i8>) -> tensor<3x4xi8>
    %2 = stablehlo.select %arg0, %arg1, %1 : tensor<3x4xi1>, tensor<3x4xi8>
    return %2 : tensor<3x4xi8>
  }
}
