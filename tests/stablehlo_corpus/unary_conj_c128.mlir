module @jit_conj attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4x8xcomplex<f64>>) -> (tensor<4x8xcomplex<f64>> {jax.result_info = "result"}) {
    %0 = stablehlo.real %arg0 : (tensor<4x8xcomplex<f64>>) -> tensor<4x8xf64>
    %1 = stablehlo.imag %arg0 : (tensor<4x8xcomplex<f64>>) -> tensor<4x8xf64>
    %2 = stablehlo.negate %1 : tensor<4x8xf64>
    %3 = stablehlo.complex %0, %2 : tensor<4x8xcomplex<f64>>
    return %3 : tensor<4x8xcomplex<f64>>
  }
}
