// Ops jax lowers to library calls on cpu, written directly: cholesky, triangular_solve, batch norm, map.
module @hand_linalg attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<3x3xf32>, %arg1: tensor<3x2xf32>, %arg2: tensor<2x3x4xf32>, %arg3: tensor<4xf32>) -> (tensor<3x3xf32>, tensor<3x2xf32>, tensor<3x2xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<3x3xf32>) {
    %0 = stablehlo.transpose %arg0, dims = [1, 0] : (tensor<3x3xf32>) -> tensor<3x3xf32>
    %1 = stablehlo.dot_general %arg0, %0, contracting_dims = [1] x [0] : (tensor<3x3xf32>, tensor<3x3xf32>) -> tensor<3x3xf32>
    %eye = stablehlo.constant dense<[[3.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 3.0]]> : tensor<3x3xf32>
    %spd = stablehlo.add %1, %eye : tensor<3x3xf32>
    %2 = stablehlo.cholesky %spd, lower = true : tensor<3x3xf32>
    %3 = "stablehlo.triangular_solve"(%2, %arg1) <{left_side = true, lower = true, transpose_a = #stablehlo<transpose NO_TRANSPOSE>, unit_diagonal = false}> : (tensor<3x3xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
    %4 = "stablehlo.triangular_solve"(%2, %arg1) <{left_side = true, lower = true, transpose_a = #stablehlo<transpose TRANSPOSE>, unit_diagonal = true}> : (tensor<3x3xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
    %5:3 = "stablehlo.batch_norm_training"(%arg2, %arg3, %arg3) <{epsilon = 1.000000e-03 : f32, feature_index = 2 : i64}> : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>)
    %var = stablehlo.multiply %arg3, %arg3 : tensor<4xf32>
    %6 = "stablehlo.batch_norm_inference"(%arg2, %arg3, %arg3, %arg3, %var) <{epsilon = 1.000000e-03 : f32, feature_index = 2 : i64}> : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
    %7 = "stablehlo.map"(%arg0, %0) <{dimensions = array<i64: 0, 1>}> ({
    ^bb0(%a: tensor<f32>, %b: tensor<f32>):
      %m = stablehlo.multiply %a, %b : tensor<f32>
      %s = stablehlo.sine %m : tensor<f32>
      stablehlo.return %s : tensor<f32>
    }) : (tensor<3x3xf32>, tensor<3x3xf32>) -> tensor<3x3xf32>
    return %2, %3, %4, %5#0, %6, %5#1, %7 : tensor<3x3xf32>, tensor<3x2xf32>, tensor<3x2xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<3x3xf32>
  }
}
