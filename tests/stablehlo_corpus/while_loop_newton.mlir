module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<5xf32>) -> (tensor<5xf32> {jax.result_info = "result"}) {
    %cst = stablehlo.constant dense<1.000000e+00> : tensor<f32>
    %0 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> tensor<5xf32>
    %c = stablehlo.constant dense<0> : tensor<i64>
    %1:3 = stablehlo.while(%iterArg = %arg0, %iterArg_0 = %0, %iterArg_1 = %c) : tensor<5xf32>, tensor<5xf32>, tensor<i64>
    cond {
      %c_2 = stablehlo.constant dense<20> : tensor<i64>
      %2 = stablehlo.compare LT, %iterArg_1, %c_2, SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
      stablehlo.return %2 : tensor<i1>
    } do {
      %2 = stablehlo.divide %iterArg, %iterArg_0 : tensor<5xf32>
      %3 = stablehlo.add %iterArg_0, %2 : tensor<5xf32>
      %cst_2 = stablehlo.constant dense<2.000000e+00> : tensor<f32>
      %4 = stablehlo.broadcast_in_dim %cst_2, dims = [] : (tensor<f32>) -> tensor<5xf32>
      %5 = stablehlo.divide %3, %4 : tensor<5xf32>
      %c_3 = stablehlo.constant dense<1> : tensor<i64>
      %6 = stablehlo.add %iterArg_1, %c_3 : tensor<i64>
      stablehlo.return %iterArg, %5, %6 : tensor<5xf32>, tensor<5xf32>, tensor<i64>
    }
    return %1#1 : tensor<5xf32>
  }
}
