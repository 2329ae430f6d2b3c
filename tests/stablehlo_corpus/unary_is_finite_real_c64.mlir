module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4x8xcomplex<f32>>) -> (tensor<4x8xi1> {jax.result_info = "result"}) {
    %0 = stablehlo.real %arg0 : (tensor<4x8xcomplex<f32>>) -> tensor<4x8xf32>
    %1 = stablehlo.is_finite %0 : (tensor<4x8xf32>) -> tensor<4x8xi1>
    return %1 : tensor<4x8xi1>
  }
}
