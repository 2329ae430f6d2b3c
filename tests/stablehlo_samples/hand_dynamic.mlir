// The dynamic ops with static result types, as shape-polymorphic exports leave them once shapes are known.
module @hand_dynamic {
  func.func public @main(%arg0: tensor<6x4xf32>, %arg1: tensor<2xi64>) -> (tensor<2x4xf32>, tensor<3x2xf32>, tensor<8x6xf32>, tensor<24xf32>, tensor<5xi32>, tensor<8x4xf32>) {
    %lo = stablehlo.constant dense<[1, 0]> : tensor<2xi64>
    %hi = stablehlo.constant dense<[5, 4]> : tensor<2xi64>
    %st = stablehlo.constant dense<[2, 1]> : tensor<2xi64>
    %0 = stablehlo.real_dynamic_slice %arg0, %lo, %hi, %st : (tensor<6x4xf32>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<2x4xf32>
    %size = stablehlo.constant dense<[3, 2]> : tensor<2xi64>
    %hi2 = stablehlo.add %arg1, %size : tensor<2xi64>
    %one = stablehlo.constant dense<1> : tensor<2xi64>
    %1 = stablehlo.real_dynamic_slice %arg0, %arg1, %hi2, %one : (tensor<6x4xf32>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<3x2xf32>
    %shape = stablehlo.constant dense<[8, 6]> : tensor<2xi32>
    %col = stablehlo.slice %arg0 [0:6, 0:1] : (tensor<6x4xf32>) -> tensor<6x1xf32>
    %v = stablehlo.reshape %col : (tensor<6x1xf32>) -> tensor<6xf32>
    %2 = stablehlo.dynamic_broadcast_in_dim %v, %shape, dims = [1] : (tensor<6xf32>, tensor<2xi32>) -> tensor<8x6xf32>
    %flat = stablehlo.constant dense<24> : tensor<1xi32>
    %3 = stablehlo.dynamic_reshape %arg0, %flat : (tensor<6x4xf32>, tensor<1xi32>) -> tensor<24xf32>
    %n = stablehlo.constant dense<5> : tensor<1xi32>
    %4 = stablehlo.dynamic_iota %n, dim = 0 : (tensor<1xi32>) -> tensor<5xi32>
    %z = stablehlo.constant dense<0.5> : tensor<f32>
    %pl = stablehlo.constant dense<[1, 0]> : tensor<2xi32>
    %ph = stablehlo.constant dense<[1, 0]> : tensor<2xi32>
    %pi = stablehlo.constant dense<0> : tensor<2xi32>
    %5 = stablehlo.dynamic_pad %arg0, %z, %pl, %ph, %pi : (tensor<6x4xf32>, tensor<f32>, tensor<2xi32>, tensor<2xi32>, tensor<2xi32>) -> tensor<8x4xf32>
    return %0, %1, %2, %3, %4, %5 : tensor<2x4xf32>, tensor<3x2xf32>, tensor<8x6xf32>, tensor<24xf32>, tensor<5xi32>, tensor<8x4xf32>
  }
}
