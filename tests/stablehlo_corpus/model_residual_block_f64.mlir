module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4x6xf64>, %arg1: tensor<6x6xf64>) -> (tensor<4x6xf64> {jax.result_info = "result"}) {
    %0 = stablehlo.dot_general %arg0, %arg1, contracting_dims = [1] x [0], precision = [DEFAULT, DEFAULT] : (tensor<4x6xf64>, tensor<6x6xf64>) -> tensor<4x6xf64>
    %1 = stablehlo.tanh %0 : tensor<4x6xf64>
    %2 = stablehlo.transpose %arg1, dims = [1, 0] : (tensor<6x6xf64>) -> tensor<6x6xf64>
    %3 = stablehlo.dot_general %1, %2, contracting_dims = [1] x [0], precision = [DEFAULT, DEFAULT] : (tensor<4x6xf64>, tensor<6x6xf64>) -> tensor<4x6xf64>
    %4 = stablehlo.add %arg0, %3 : tensor<4x6xf64>
    return %4 : tensor<4x6xf64>
  }
}
