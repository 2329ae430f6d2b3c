module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<7xf32>) -> (tensor<f32> {jax.result_info = "result[0]"}, tensor<7xf32> {jax.result_info = "result[1]"}) {
    %cst = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %0 = stablehlo.slice %arg0 [0:1] : (tensor<7xf32>) -> tensor<1xf32>
    %1 = stablehlo.slice %arg0 [1:7] : (tensor<7xf32>) -> tensor<6xf32>
    %2 = stablehlo.reshape %1 : (tensor<6xf32>) -> tensor<3x2xf32>
    %cst_0 = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %3 = stablehlo.broadcast_in_dim %cst_0, dims = [] : (tensor<f32>) -> tensor<3x2xf32>
    %c = stablehlo.constant dense<0> : tensor<i64>
    %4:4 = stablehlo.while(%iterArg = %2, %iterArg_1 = %c, %iterArg_2 = %cst, %iterArg_3 = %3) : tensor<3x2xf32>, tensor<i64>, tensor<f32>, tensor<3x2xf32>
    cond {
      %c_4 = stablehlo.constant dense<3> : tensor<i64>
      %11 = stablehlo.compare LT, %iterArg_1, %c_4, SIGNED : (tensor<i64>, tensor<i64>) -> tensor<i1>
      stablehlo.return %11 : tensor<i1>
    } do {
      %c_4 = stablehlo.constant dense<3> : tensor<i64>
      %11 = stablehlo.subtract %c_4, %iterArg_1 : tensor<i64>
      %c_5 = stablehlo.constant dense<1> : tensor<i64>
      %12 = stablehlo.subtract %11, %c_5 : tensor<i64>
      %13 = func.call @dynamic_index_in_dim(%iterArg, %12) : (tensor<3x2xf32>, tensor<i64>) -> tensor<2xf32>
      %14 = stablehlo.slice %13 [1:2] : (tensor<2xf32>) -> tensor<1xf32>
      %15 = stablehlo.reshape %14 : (tensor<1xf32>) -> tensor<f32>
      %16:2 = func.call @closed_call(%iterArg_2, %15) : (tensor<f32>, tensor<f32>) -> (tensor<f32>, tensor<f32>)
      %17 = stablehlo.slice %13 [0:1] : (tensor<2xf32>) -> tensor<1xf32>
      %18 = stablehlo.reshape %17 : (tensor<1xf32>) -> tensor<f32>
      %19:2 = func.call @closed_call(%16#0, %18) : (tensor<f32>, tensor<f32>) -> (tensor<f32>, tensor<f32>)
      %20 = stablehlo.broadcast_in_dim %19#1, dims = [] : (tensor<f32>) -> tensor<1xf32>
      %21 = stablehlo.broadcast_in_dim %16#1, dims = [] : (tensor<f32>) -> tensor<1xf32>
      %22 = stablehlo.concatenate %20, %21, dim = 0 : (tensor<1xf32>, tensor<1xf32>) -> tensor<2xf32>
      %23 = func.call @dynamic_update_index_in_dim(%iterArg_3, %22, %12) : (tensor<3x2xf32>, tensor<2xf32>, tensor<i64>) -> tensor<3x2xf32>
      %c_6 = stablehlo.constant dense<1> : tensor<i64>
      %24 = stablehlo.add %iterArg_1, %c_6 : tensor<i64>
      stablehlo.return %iterArg, %24, %19#0, %23 : tensor<3x2xf32>, tensor<i64>, tensor<f32>, tensor<3x2xf32>
    }
    %5 = stablehlo.reshape %4#3 : (tensor<3x2xf32>) -> tensor<6xf32>
    %6 = stablehlo.slice %0 [0:1] : (tensor<1xf32>) -> tensor<1xf32>
    %7 = stablehlo.reshape %6 : (tensor<1xf32>) -> tensor<f32>
    %8:2 = call @closed_call(%4#2, %7) : (tensor<f32>, tensor<f32>) -> (tensor<f32>, tensor<f32>)
    %9 = stablehlo.broadcast_in_dim %8#1, dims = [] : (tensor<f32>) -> tensor<1xf32>
    %10 = stablehlo.concatenate %9, %5, dim = 0 : (tensor<1xf32>, tensor<6xf32>) -> tensor<7xf32>
    return %8#0, %10 : tensor<f32>, tensor<7xf32>
  }
  func.func private @dynamic_index_in_dim(%arg0: tensor<3x2xf32>, %arg1: tensor<i64>) -> tensor<2xf32> {
    %c = stablehlo.constant dense<0> : tensor<i64>
    %0 = stablehlo.dynamic_slice %arg0, %arg1, %c, sizes = [1, 2] : (tensor<3x2xf32>, tensor<i64>, tensor<i64>) -> tensor<1x2xf32>
    %1 = stablehlo.reshape %0 : (tensor<1x2xf32>) -> tensor<2xf32>
    return %1 : tensor<2xf32>
  }
  func.func private @closed_call(%arg0: tensor<f32>, %arg1: tensor<f32>) -> (tensor<f32>, tensor<f32>) {
    %cst = stablehlo.constant dense<0.899999976> : tensor<f32>
    %0 = stablehlo.multiply %arg0, %cst : tensor<f32>
    %1 = stablehlo.add %0, %arg1 : tensor<f32>
    return %1, %arg0 : tensor<f32>, tensor<f32>
  }
  func.func private @dynamic_update_index_in_dim(%arg0: tensor<3x2xf32>, %arg1: tensor<2xf32>, %arg2: tensor<i64>) -> tensor<3x2xf32> {
    %0 = stablehlo.broadcast_in_dim %arg1, dims = [1] : (tensor<2xf32>) -> tensor<1x2xf32>
    %c = stablehlo.constant dense<0> : tensor<i64>
    %1 = stablehlo.dynamic_update_slice %arg0, %0, %arg2, %c : (tensor<3x2xf32>, tensor<1x2xf32>, tensor<i64>, tensor<i64>) -> tensor<3x2xf32>
    return %1 : tensor<3x2xf32>
  }
}
