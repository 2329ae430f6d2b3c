module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<3x5xf32>) -> (tensor<3x5xf32> {jax.result_info = "result[0]"}, tensor<3x5xf32> {jax.result_info = "result[1]"}) {
    %0 = call @_roll_static(%arg0) : (tensor<3x5xf32>) -> tensor<3x5xf32>
    %1 = stablehlo.reshape %arg0 : (tensor<3x5xf32>) -> tensor<15xf32>
    %2 = call @_roll_static_0(%1) : (tensor<15xf32>) -> tensor<15xf32>
    %3 = stablehlo.reshape %2 : (tensor<15xf32>) -> tensor<3x5xf32>
    return %0, %3 : tensor<3x5xf32>, tensor<3x5xf32>
  }
  func.func private @_roll_static(%arg0: tensor<3x5xf32>) -> tensor<3x5xf32> {
    %0 = stablehlo.slice %arg0 [0:3, 3:5] : (tensor<3x5xf32>) -> tensor<3x2xf32>
    %1 = stablehlo.slice %arg0 [0:3, 0:3] : (tensor<3x5xf32>) -> tensor<3x3xf32>
    %2 = stablehlo.concatenate %0, %1, dim = 1 : (tensor<3x2xf32>, tensor<3x3xf32>) -> tensor<3x5xf32>
    return %2 : tensor<3x5xf32>
  }
  func.func private @_roll_static_0(%arg0: tensor<15xf32>) -> tensor<15xf32> {
    %0 = stablehlo.slice %arg0 [1:15] : (tensor<15xf32>) -> tensor<14xf32>
    %1 = stablehlo.slice %arg0 [0:1] : (tensor<15xf32>) -> tensor<1xf32>
    %2 = stablehlo.concatenate %0, %1, dim = 0 : (tensor<14xf32>, tensor<1xf32>) -> tensor<15xf32>
    return %2 : tensor<15xf32>
  }
}
