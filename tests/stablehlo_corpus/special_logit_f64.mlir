module @jit_logit attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4x8xf64>) -> (tensor<4x8xf64> {jax.result_info = "result"}) {
    %cst = stablehlo.constant dense<1.000000e+00> : tensor<f64>
    %0 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f64>) -> tensor<4x8xf64>
    %1 = stablehlo.subtract %0, %arg0 : tensor<4x8xf64>
    %2 = stablehlo.divide %arg0, %1 : tensor<4x8xf64>
    %3 = stablehlo.log %2 : tensor<4x8xf64>
    return %3 : tensor<4x8xf64>
  }
}
