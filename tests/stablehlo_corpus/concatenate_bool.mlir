module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<2x3xi1>, %arg1: tensor<2x2xi1>) -> (tensor<2x5xi1> {jax.result_info = "result"}) {
    %0 = stablehlo.concatenate %arg0, %arg1, dim = 1 : (tensor<2x3xi1>, tensor<2x2xi1>) -> tensor<2x5xi1>
    return %0 : tensor<2x5xi1>
  }
}
