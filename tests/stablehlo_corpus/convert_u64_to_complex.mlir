module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<16xui64>) -> (tensor<16xcomplex<f32>> {jax.result_info = "result[0]"}, tensor<16xcomplex<f64>> {jax.result_info = "result[1]"}) {
    %0 = stablehlo.convert %arg0 : (tensor<16xui64>) -> tensor<16xcomplex<f32>>
    %1 = stablehlo.convert %arg0 : (tensor<16xui64>) -> tensor<16xcomplex<f64>>
    return %0, %1 : tensor<16xcomplex<f32>>, tensor<16xcomplex<f64>>
  }
}
