// A constant of every element type, converted to f32 (or compared) so the outputs are plain.
module @hand_types {
  func.func public @main(%arg0: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<3xi1>) {
    %0 = stablehlo.constant dense<[1, -2, 1]> : tensor<3xi2>
    %1 = stablehlo.constant dense<[0, 7, 15]> : tensor<3xui4>
    %2 = stablehlo.constant dense<[0.5, -2.0, 256.0]> : tensor<3xf8E4M3>
    %3 = stablehlo.constant dense<[0.25, -1.5, 8.0]> : tensor<3xf8E3M4>
    %4 = stablehlo.constant dense<[0.5, 1.0, 1024.0]> : tensor<3xf8E8M0FNU>
    %5 = stablehlo.constant dense<[0.5, -3.0, 6.0]> : tensor<3xf4E2M1FN>
    %6 = stablehlo.constant dense<[0.5, -2.0, 4.0]> : tensor<3xf8E4M3FNUZ>
    %7 = stablehlo.constant dense<[0.5, -2.0, 4.0]> : tensor<3xf8E5M2FNUZ>
    %8 = stablehlo.constant dense<[0.5, -2.0, 4.0]> : tensor<3xf8E4M3B11FNUZ>
    %9 = stablehlo.constant dense<"0x0102FF"> : tensor<3xui8>
    %10 = stablehlo.constant dense<[65535, 0, 7]> : tensor<3xui16>
    %11 = stablehlo.constant dense<[(1.5, -2.0), (0.0, 3.25)]> : tensor<2xcomplex<f64>>
    %12 = stablehlo.constant dense<(2.0, 1.0)> : tensor<2xcomplex<f32>>
    %13 = stablehlo.constant dense<"0x3C00"> : tensor<3xf16>
    %c0 = stablehlo.convert %0 : (tensor<3xi2>) -> tensor<3xf32>
    %c1 = stablehlo.convert %1 : (tensor<3xui4>) -> tensor<3xf32>
    %c2 = stablehlo.convert %2 : (tensor<3xf8E4M3>) -> tensor<3xf32>
    %c3 = stablehlo.convert %3 : (tensor<3xf8E3M4>) -> tensor<3xf32>
    %c4 = stablehlo.convert %4 : (tensor<3xf8E8M0FNU>) -> tensor<3xf32>
    %c5 = stablehlo.convert %5 : (tensor<3xf4E2M1FN>) -> tensor<3xf32>
    %c6 = stablehlo.convert %6 : (tensor<3xf8E4M3FNUZ>) -> tensor<3xf32>
    %c7 = stablehlo.convert %7 : (tensor<3xf8E5M2FNUZ>) -> tensor<3xf32>
    %c8 = stablehlo.convert %8 : (tensor<3xf8E4M3B11FNUZ>) -> tensor<3xf32>
    %c9 = stablehlo.convert %9 : (tensor<3xui8>) -> tensor<3xf32>
    %c10 = stablehlo.convert %10 : (tensor<3xui16>) -> tensor<3xf32>
    %r11 = stablehlo.real %11 : (tensor<2xcomplex<f64>>) -> tensor<2xf64>
    %c11 = stablehlo.convert %r11 : (tensor<2xf64>) -> tensor<2xf32>
    %c12 = stablehlo.imag %12 : (tensor<2xcomplex<f32>>) -> tensor<2xf32>
    %c13 = stablehlo.convert %13 : (tensor<3xf16>) -> tensor<3xf32>
    %s = stablehlo.add %c13, %arg0 : tensor<3xf32>
    %p = stablehlo.compare GT, %s, %c0 : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xi1>
    return %c0, %c1, %c2, %c3, %c4, %c5, %c6, %c7, %c8, %c9, %c10, %c11, %c12, %p : tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<3xi1>
  }
}
