module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4x8xi8>) -> (tensor<4x8xi8> {jax.result_info = "result"}) {
    %c = stablehlo.constant dense<-3> : tensor<i8>
    %c_0 = stablehlo.constant dense<5> : tensor<i8>
    %0 = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<i8>) -> tensor<4x8xi8>
    %1 = stablehlo.broadcast_in_dim %c_0, dims = [] : (tensor<i8>) -> tensor<4x8xi8>
    %2 = stablehlo.clamp %0, %arg0, %1 : tensor<4x8xi8>
    return %2 : tensor<4x8xi8>
  }
}
