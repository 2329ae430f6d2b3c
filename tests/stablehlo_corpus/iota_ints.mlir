module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<i32>) -> (tensor<3x5xi32> {jax.result_info = "result[0]"}, tensor<6xi32> {jax.result_info = "result[1]"}, tensor<3x5xui8> {jax.result_info = "result[2]"}, tensor<6xui8> {jax.result_info = "result[3]"}, tensor<3x5xi64> {jax.result_info = "result[4]"}, tensor<6xi64> {jax.result_info = "result[5]"}) {
    %0 = stablehlo.iota dim = 1 : tensor<3x5xi32>
    %1 = stablehlo.broadcast_in_dim %arg0, dims = [] : (tensor<i32>) -> tensor<3x5xi32>
    %2 = stablehlo.add %0, %1 : tensor<3x5xi32>
    %3 = stablehlo.iota dim = 0 : tensor<6xi32>
    %4 = stablehlo.iota dim = 1 : tensor<3x5xui8>
    %5 = stablehlo.convert %arg0 : (tensor<i32>) -> tensor<ui8>
    %6 = stablehlo.broadcast_in_dim %5, dims = [] : (tensor<ui8>) -> tensor<3x5xui8>
    %7 = stablehlo.add %4, %6 : tensor<3x5xui8>
    %8 = stablehlo.iota dim = 0 : tensor<6xui8>
    %9 = stablehlo.iota dim = 1 : tensor<3x5xi64>
    %10 = stablehlo.convert %arg0 : (tensor<i32>) -> tensor<i64>
    %11 = stablehlo.broadcast_in_dim %10, dims = [] : (tensor<i64>) -> tensor<3x5xi64>
    %12 = stablehlo.add %9, %11 : tensor<3x5xi64>
    %13 = stablehlo.iota dim = 0 : tensor<6xi64>
    return %2, %3, %7, %8, %12, %13 : tensor<3x5xi32>, tensor<6xi32>, tensor<3x5xui8>, tensor<6xui8>, tensor<3x5xi64>, tensor<6xi64>
  }
}
