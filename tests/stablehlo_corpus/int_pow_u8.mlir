module @jit_power attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4x8xui8>, %arg1: tensor<4x8xui32>) -> (tensor<4x8xui32> {jax.result_info = "result"}) {
    %0 = stablehlo.convert %arg0 : (tensor<4x8xui8>) -> tensor<4x8xui32>
    %c = stablehlo.constant dense<0> : tensor<ui32>
    %1 = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<ui32>) -> tensor<4x8xui32>
    %2 = stablehlo.compare EQ, %0, %1, UNSIGNED : (tensor<4x8xui32>, tensor<4x8xui32>) -> tensor<4x8xi1>
    %c_0 = stablehlo.constant dense<0> : tensor<ui32>
    %3 = stablehlo.broadcast_in_dim %c_0, dims = [] : (tensor<ui32>) -> tensor<4x8xui32>
    %4 = stablehlo.compare NE, %arg1, %3, UNSIGNED : (tensor<4x8xui32>, tensor<4x8xui32>) -> tensor<4x8xi1>
    %5 = stablehlo.and %2, %4 : tensor<4x8xi1>
    %c_1 = stablehlo.constant dense<0> : tensor<ui32>
    %c_2 = stablehlo.constant dense<1> : tensor<ui32>
    %6 = call @_where(%5, %c_1, %c_2) : (tensor<4x8xi1>, tensor<ui32>, tensor<ui32>) -> tensor<4x8xui32>
    %c_3 = stablehlo.constant dense<1> : tensor<ui32>
    %7 = stablehlo.broadcast_in_dim %c_3, dims = [] : (tensor<ui32>) -> tensor<4x8xui32>
    %8 = stablehlo.and %arg1, %7 : tensor<4x8xui32>
    %9 = stablehlo.multiply %6, %0 : tensor<4x8xui32>
    %10 = call @_where_0(%8, %9, %6) : (tensor<4x8xui32>, tensor<4x8xui32>, tensor<4x8xui32>) -> tensor<4x8xui32>
    %11 = stablehlo.multiply %0, %0 : tensor<4x8xui32>
    %c_4 = stablehlo.constant dense<1> : tensor<ui32>
    %12 = stablehlo.broadcast_in_dim %c_4, dims = [] : (tensor<ui32>) -> tensor<4x8xui32>
    %13 = stablehlo.shift_right_logical %arg1, %12 : tensor<4x8xui32>
    %c_5 = stablehlo.constant dense<1> : tensor<ui32>
    %14 = stablehlo.broadcast_in_dim %c_5, dims = [] : (tensor<ui32>) -> tensor<4x8xui32>
    %15 = stablehlo.and %13, %14 : tensor<4x8xui32>
    %16 = stablehlo.multiply %10, %11 : tensor<4x8xui32>
    %17 = call @_where_0(%15, %16, %10) : (tensor<4x8xui32>, tensor<4x8xui32>, tensor<4x8xui32>) -> tensor<4x8xui32>
    %18 = stablehlo.multiply %11, %11 : tensor<4x8xui32>
    %c_6 = stablehlo.constant dense<1> : tensor<ui32>
    %19 = stablehlo.broadcast_in_dim %c_6, dims = [] : (tensor<ui32>) -> tensor<4x8xui32>
    %20 = stablehlo.shift_right_logical %13, %19 : tensor<4x8xui32>
    %c_7 = stablehlo.constant dense<1> : tensor<ui32>
    %21 = stablehlo.broadcast_in_dim %c_7, dims = [] : (tensor<ui32>) -> tensor<4x8xui32>
    %22 = stablehlo.and %20, %21 : tensor<4x8xui32>
    %23 = stablehlo.multiply %17, %18 : tensor<4x8xui32>
    %24 = call @_where_0(%22, %23, %17) : (tensor<4x8xui32>, tensor<4x8xui32>, tensor<4x8xui32>) -> tensor<4x8xui32>
    %25 = stablehlo.multiply %18, %18 : tensor<4x8xui32>
    %c_8 = stablehlo.constant dense<1> : tensor<ui32>
    %26 = stablehlo.broadcast_in_dim %c_8, dims = [] : (tensor<ui32>) -> tensor<4x8xui32>
    %27 = stablehlo.shift_right_logical %20, %26 : tensor<4x8xui32>
    %c_9 = stablehlo.constant dense<1> : tensor<ui32>
    %28 = stablehlo.broadcast_in_dim %c_9, dims = [] : (tensor<ui32>) -> tensor<4x8xui32>
    %29 = stablehlo.and %27, %28 : tensor<4x8xui32>
    %30 = stablehlo.multiply %24, %25 : tensor<4x8xui32>
    %31 = call @_where_0(%29, %30, %24) : (tensor<4x8xui32>, tensor<4x8xui32>, tensor<4x8xui32>) -> tensor<4x8xui32>
    %32 = stablehlo.multiply %25, %25 : tensor<4x8xui32>
    %c_10 = stablehlo.constant dense<1> : tensor<ui32>
    %33 = stablehlo.broadcast_in_dim %c_10, dims = [] : (tensor<ui32>) -> tensor<4x8xui32>
    %34 = stablehlo.shift_right_logical %27, %33 : tensor<4x8xui32>
    %c_11 = stablehlo.constant dense<1> : tensor<ui32>
    %35 = stablehlo.broadcast_in_dim %c_11, dims = [] : (tensor<ui32>) -> tensor<4x8xui32>
    %36 = stablehlo.and %34, %35 : tensor<4x8xui32>
    %37 = stablehlo.multiply %31, %32 : tensor<4x8xui32>
    %38 = call @_where_0(%36, %37, %31) : (tensor<4x8xui32>, tensor<4x8xui32>, tensor<4x8xui32>) -> tensor<4x8xui32>
    %39 = stablehlo.multiply %32, %32 : tensor<4x8xui32>
    %c_12 = stablehlo.constant dense<1> : tensor<ui32>
    %40 = stablehlo.broadcast_in_dim %c_12, dims = [] : (tensor<ui32>) -> tensor<4x8xui32>
    %41 = stablehlo.shift_right_logical %34, %40 : tensor<4x8xui32>
    %c_13 = stablehlo.constant dense<1> : tensor<ui32>
    %42 = stablehlo.broadcast_in_dim %c_13, dims = [] : (tensor<ui32>) -> tensor<4x8xui32>
    %43 = stablehlo.and %41, %42 : tensor<4x8xui32>
    %44 = stablehlo.multiply %38, %39 : tensor<4x8xui32>
    %45 = call @_where_0(%43, %44, %38) : (tensor<4x8xui32>, tensor<4x8xui32>, tensor<4x8xui32>) -> tensor<4x8xui32>
    %46 = stablehlo.multiply %39, %39 : tensor<4x8xui32>
    %c_14 = stablehlo.constant dense<1> : tensor<ui32>
    %47 = stablehlo.broadcast_in_dim %c_14, dims = [] : (tensor<ui32>) -> tensor<4x8xui32>
    %48 = stablehlo.shift_right_logical %41, %47 : tensor<4x8xui32>
    return %45 : tensor<4x8xui32>
  }
  func.func private @_where(%arg0: tensor<4x8xi1>, %arg1: tensor<ui32>, %arg2: tensor<ui32>) -> tensor<4x8xui32> {
    %0 = stablehlo.broadcast_in_dim %arg1, dims = [] : (tensor<ui32>) -> tensor<4x8xui32>
    %1 = stablehlo.broadcast_in_dim %arg2, dims = [] : (tensor<ui32>) -> tensor<4x8xui32>
    %2 = stablehlo.select %arg0, %0, %1 : tensor<4x8xi1>, tensor<4x8xui32>
    return %2 : tensor<4x8xui32>
  }
  func.func private @_where_0(%arg0: tensor<4x8xui32>, %arg1: tensor<4x8xui32>, %arg2: tensor<4x8xui32>) -> tensor<4x8xui32> {
    %c = stablehlo.constant dense<0> : tensor<ui32>
    %0 = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<ui32>) -> tensor<4x8xui32>
    %1 = stablehlo.compare NE, %arg0, %0, UNSIGNED : (tensor<4x8xui32>, tensor<4x8xui32>) -> tensor<4x8xi1>
    %2 = stablehlo.select %1, %arg1, %arg2 : tensor<4x8xi1>, tensor<4x8xui32>
    return %2 : tensor<4x8xui32>
  }
}
