module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<5xi32>) -> (tensor<13xi32> {jax.result_info = "result"}) {
    %c = stablehlo.constant dense<7> : tensor<i32>
    %0 = stablehlo.pad %arg0, %c, low = [1], high = [-1], interior = [2] : (tensor<5xi32>, tensor<i32>) -> tensor<13xi32>
    return %0 : tensor<13xi32>
  }
}
