module @jit_composite_op attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4x5xf32>, %arg1: tensor<5xf32>) -> (tensor<4x5xf32> {jax.result_info = "result"}) {
    %0 = stablehlo.composite "my.tanh_add" %arg0, %arg1 {decomposition = @my.tanh_add} : (tensor<4x5xf32>, tensor<5xf32>) -> tensor<4x5xf32>
    return %0 : tensor<4x5xf32>
  }
  func.func private @my.tanh_add(%arg0: tensor<4x5xf32>, %arg1: tensor<5xf32>) -> tensor<4x5xf32> {
    %0 = stablehlo.tanh %arg0 : tensor<4x5xf32>
    %1 = stablehlo.broadcast_in_dim %arg1, dims = [1] : (tensor<5xf32>) -> tensor<1x5xf32>
    %2 = stablehlo.broadcast_in_dim %1, dims = [0, 1] : (tensor<1x5xf32>) -> tensor<4x5xf32>
    %3 = stablehlo.add %0, %2 : tensor<4x5xf32>
    return %3 : tensor<4x5xf32>
  }
}
