module @jit__lambda attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<3xf32>) -> (tensor<3x3xf32> {jax.result_info = "result"}) {
    %0 = stablehlo.iota dim = 0 : tensor<3x3xi64>
    %1 = stablehlo.iota dim = 1 : tensor<3x3xi64>
    %c = stablehlo.constant dense<0> : tensor<i64>
    %2 = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<i64>) -> tensor<3x3xi64>
    %3 = stablehlo.add %0, %2 : tensor<3x3xi64>
    %4 = stablehlo.compare EQ, %3, %1, SIGNED : (tensor<3x3xi64>, tensor<3x3xi64>) -> tensor<3x3xi1>
    %5 = stablehlo.convert %4 : (tensor<3x3xi1>) -> tensor<3x3xf32>
    %6 = stablehlo.slice %5 [0:3, 0:3] : (tensor<3x3xf32>) -> tensor<3x3xf32>
    %7 = stablehlo.convert %6 : tensor<3x3xf32>
    %8 = stablehlo.tanh %arg0 : tensor<3xf32>
    %9 = stablehlo.broadcast_in_dim %8, dims = [1] : (tensor<3xf32>) -> tensor<1x3xf32>
    %10 = stablehlo.broadcast_in_dim %9, dims = [0, 1] : (tensor<1x3xf32>) -> tensor<3x3xf32>
    %11 = stablehlo.multiply %7, %10 : tensor<3x3xf32>
    %12 = stablehlo.add %7, %11 : tensor<3x3xf32>
    %cst = stablehlo.constant dense<1.000000e+00> : tensor<f32>
    %13 = stablehlo.broadcast_in_dim %cst, dims = [] : (tensor<f32>) -> tensor<3xf32>
    %14 = stablehlo.subtract %13, %8 : tensor<3xf32>
    %15 = stablehlo.broadcast_in_dim %14, dims = [1] : (tensor<3xf32>) -> tensor<1x3xf32>
    %16 = stablehlo.broadcast_in_dim %15, dims = [0, 1] : (tensor<1x3xf32>) -> tensor<3x3xf32>
    %17 = stablehlo.multiply %12, %16 : tensor<3x3xf32>
    %cst_0 = stablehlo.constant dense<1.000000e+00> : tensor<f32>
    %18 = stablehlo.broadcast_in_dim %cst_0, dims = [] : (tensor<f32>) -> tensor<3xf32>
    %19 = stablehlo.subtract %18, %8 : tensor<3xf32>
    %20 = stablehlo.negate %17 : tensor<3x3xf32>
    %21 = stablehlo.multiply %8, %8 : tensor<3xf32>
    %22 = stablehlo.multiply %21, %8 : tensor<3xf32>
    %23 = stablehlo.multiply %8, %8 : tensor<3xf32>
    %cst_1 = stablehlo.constant dense<3.000000e+00> : tensor<f32>
    %24 = stablehlo.broadcast_in_dim %cst_1, dims = [] : (tensor<f32>) -> tensor<3xf32>
    %25 = stablehlo.multiply %24, %23 : tensor<3xf32>
    %26 = stablehlo.broadcast_in_dim %25, dims = [1] : (tensor<3xf32>) -> tensor<1x3xf32>
    %27 = stablehlo.broadcast_in_dim %26, dims = [0, 1] : (tensor<1x3xf32>) -> tensor<3x3xf32>
    %28 = stablehlo.multiply %17, %27 : tensor<3x3xf32>
    %29 = stablehlo.multiply %8, %8 : tensor<3xf32>
    %cst_2 = stablehlo.constant dense<2.000000e+00> : tensor<f32>
    %30 = stablehlo.broadcast_in_dim %cst_2, dims = [] : (tensor<f32>) -> tensor<3xf32>
    %31 = stablehlo.multiply %30, %8 : tensor<3xf32>
    %32 = stablehlo.broadcast_in_dim %31, dims = [1] : (tensor<3xf32>) -> tensor<1x3xf32>
    %33 = stablehlo.broadcast_in_dim %32, dims = [0, 1] : (tensor<1x3xf32>) -> tensor<3x3xf32>
    %34 = stablehlo.multiply %17, %33 : tensor<3x3xf32>
    %cst_3 = stablehlo.constant dense<3.000000e+00> : tensor<f32>
    %35 = stablehlo.broadcast_in_dim %cst_3, dims = [] : (tensor<f32>) -> tensor<3xf32>
    %36 = stablehlo.multiply %35, %29 : tensor<3xf32>
    %cst_4 = stablehlo.constant dense<3.000000e+00> : tensor<f32>
    %37 = stablehlo.broadcast_in_dim %cst_4, dims = [] : (tensor<f32>) -> tensor<3x3xf32>
    %38 = stablehlo.multiply %37, %34 : tensor<3x3xf32>
    %cst_5 = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %39 = stablehlo.reduce(%22 init: %cst_5) applies stablehlo.add across dimensions = [0] : (tensor<3xf32>, tensor<f32>) -> tensor<f32>
    %cst_6 = stablehlo.constant dense<0.000000e+00> : tensor<f32>
    %40 = stablehlo.reduce(%28 init: %cst_6) applies stablehlo.add across dimensions = [1] : (tensor<3x3xf32>, tensor<f32>) -> tensor<3xf32>
    %41 = stablehlo.iota dim = 0 : tensor<1x1xi64>
    %42 = stablehlo.iota dim = 1 : tensor<1x1xi64>
    %c_7 = stablehlo.constant dense<0> : tensor<i64>
    %43 = stablehlo.broadcast_in_dim %c_7, dims = [] : (tensor<i64>) -> tensor<1x1xi64>
    %44 = stablehlo.add %41, %43 : tensor<1x1xi64>
    %45 = stablehlo.compare EQ, %44, %42, SIGNED : (tensor<1x1xi64>, tensor<1x1xi64>) -> tensor<1x1xi1>
    %46 = stablehlo.convert %45 : (tensor<1x1xi1>) -> tensor<1x1xf32>
    %47 = stablehlo.slice %46 [0:1, 0:1] : (tensor<1x1xf32>) -> tensor<1x1xf32>
    %48 = stablehlo.reshape %47 : (tensor<1x1xf32>) -> tensor<1xf32>
    %49 = stablehlo.convert %48 : tensor<1xf32>
    %50 = stablehlo.broadcast_in_dim %49, dims = [0] : (tensor<1xf32>) -> tensor<1x3xf32>
    %51 = stablehlo.broadcast_in_dim %36, dims = [1] : (tensor<3xf32>) -> tensor<1x3xf32>
    %52 = stablehlo.broadcast_in_dim %38, dims = [0, 2] : (tensor<3x3xf32>) -> tensor<3x1x3xf32>
    %53 = stablehlo.multiply %50, %51 : tensor<1x3xf32>
    %54 = stablehlo.broadcast_in_dim %50, dims = [1, 2] : (tensor<1x3xf32>) -> tensor<1x1x3xf32>
    %55 = stablehlo.broadcast_in_dim %54, dims = [0, 1, 2] : (tensor<1x1x3xf32>) -> tensor<3x1x3xf32>
    %56 = stablehlo.multiply %55, %52 : tensor<3x1x3xf32>
    %57 = stablehlo.broadcast_in_dim %19, dims = [1] : (tensor<3xf32>) -> tensor<1x3xf32>
    %58 = stablehlo.broadcast_in_dim %20, dims = [0, 2] : (tensor<3x3xf32>) -> tensor<3x1x3xf32>
    %59 = stablehlo.multiply %53, %57 : tensor<1x3xf32>
    %60 = stablehlo.broadcast_in_dim %57, dims = [1, 2] : (tensor<1x3xf32>) -> tensor<1x1x3xf32>
    %61 = stablehlo.broadcast_in_dim %60, dims = [0, 1, 2] : (tensor<1x1x3xf32>) -> tensor<3x1x3xf32>
    %62 = stablehlo.multiply %56, %61 : tensor<3x1x3xf32>
    %63 = stablehlo.broadcast_in_dim %53, dims = [1, 2] : (tensor<1x3xf32>) -> tensor<1x1x3xf32>
    %64 = stablehlo.broadcast_in_dim %63, dims = [0, 1, 2] : (tensor<1x1x3xf32>) -> tensor<3x1x3xf32>
    %65 = stablehlo.multiply %64, %58 : tensor<3x1x3xf32>
    %66 = stablehlo.add %62, %65 : tensor<3x1x3xf32>
    %67 = stablehlo.broadcast_in_dim %8, dims = [1] : (tensor<3xf32>) -> tensor<1x3xf32>
    %68 = stablehlo.broadcast_in_dim %17, dims = [0, 2] : (tensor<3x3xf32>) -> tensor<3x1x3xf32>
    %69 = stablehlo.multiply %59, %67 : tensor<1x3xf32>
    %70 = stablehlo.broadcast_in_dim %67, dims = [1, 2] : (tensor<1x3xf32>) -> tensor<1x1x3xf32>
    %71 = stablehlo.broadcast_in_dim %70, dims = [0, 1, 2] : (tensor<1x1x3xf32>) -> tensor<3x1x3xf32>
    %72 = stablehlo.multiply %66, %71 : tensor<3x1x3xf32>
    %73 = stablehlo.broadcast_in_dim %59, dims = [1, 2] : (tensor<1x3xf32>) -> tensor<1x1x3xf32>
    %74 = stablehlo.broadcast_in_dim %73, dims = [0, 1, 2] : (tensor<1x1x3xf32>) -> tensor<3x1x3xf32>
    %75 = stablehlo.multiply %74, %68 : tensor<3x1x3xf32>
    %76 = stablehlo.add %72, %75 : tensor<3x1x3xf32>
    %77 = stablehlo.add %59, %69 : tensor<1x3xf32>
    %78 = stablehlo.add %66, %76 : tensor<3x1x3xf32>
    %79 = stablehlo.slice %77 [0:1, 0:3] : (tensor<1x3xf32>) -> tensor<1x3xf32>
    %80 = stablehlo.slice %78 [0:3, 0:1, 0:3] : (tensor<3x1x3xf32>) -> tensor<3x1x3xf32>
    %81 = stablehlo.reshape %79 : (tensor<1x3xf32>) -> tensor<3xf32>
    %82 = stablehlo.reshape %80 : (tensor<3x1x3xf32>) -> tensor<3x3xf32>
    %83 = stablehlo.transpose %82, dims = [1, 0] : (tensor<3x3xf32>) -> tensor<3x3xf32>
    %84 = stablehlo.slice %83 [0:3, 0:3] : (tensor<3x3xf32>) -> tensor<3x3xf32>
    return %84 : tensor<3x3xf32>
  }
}
