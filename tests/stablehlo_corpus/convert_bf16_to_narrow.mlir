module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<16xbf16>) -> (tensor<16xf8E4M3FN> {jax.result_info = "result[0]"}, tensor<16xf8E5M2> {jax.result_info = "result[1]"}, tensor<16xi4> {jax.result_info = "result[2]"}, tensor<16xui4> {jax.result_info = "result[3]"}) {
    %0 = stablehlo.convert %arg0 : (tensor<16xbf16>) -> tensor<16xf8E4M3FN>
    %1 = stablehlo.convert %arg0 : (tensor<16xbf16>) -> tensor<16xf8E5M2>
    %2 = stablehlo.convert %arg0 : (tensor<16xbf16>) -> tensor<16xi4>
    %3 = stablehlo.convert %arg0 : (tensor<16xbf16>) -> tensor<16xui4>
    return %0, %1, %2, %3 : tensor<16xf8E4M3FN>, tensor<16xf8E5M2>, tensor<16xi4>, tensor<16xui4>
  }
}
