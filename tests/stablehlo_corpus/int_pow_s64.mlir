module @jit_power attributes {mhlo.num_partitions = 1 : i32, mhlo.num_replicas = 1 : i32} {
  func.func public @main(%arg0: tensor<4x8xi64>, %arg1: tensor<4x8xi32>) -> (tensor<4x8xi64> {jax.result_info = "result"}) {
    %0 = stablehlo.convert %arg1 : (tensor<4x8xi32>) -> tensor<4x8xi64>
    %c = stablehlo.constant dense<0> : tensor<i64>
    %1 = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<i64>) -> tensor<4x8xi64>
    %2 = stablehlo.compare EQ, %arg0, %1, SIGNED : (tensor<4x8xi64>, tensor<4x8xi64>) -> tensor<4x8xi1>
    %c_0 = stablehlo.constant dense<0> : tensor<i64>
    %3 = stablehlo.broadcast_in_dim %c_0, dims = [] : (tensor<i64>) -> tensor<4x8xi64>
    %4 = stablehlo.compare NE, %0, %3, SIGNED : (tensor<4x8xi64>, tensor<4x8xi64>) -> tensor<4x8xi1>
    %5 = stablehlo.and %2, %4 : tensor<4x8xi1>
    %c_1 = stablehlo.constant dense<0> : tensor<i64>
    %c_2 = stablehlo.constant dense<1> : tensor<i64>
    %6 = call @_where(%5, %c_1, %c_2) : (tensor<4x8xi1>, tensor<i64>, tensor<i64>) -> tensor<4x8xi64>
    %c_3 = stablehlo.constant dense<1> : tensor<i64>
    %7 = stablehlo.broadcast_in_dim %c_3, dims = [] : (tensor<i64>) -> tensor<4x8xi64>
    %8 = stablehlo.and %0, %7 : tensor<4x8xi64>
    %9 = stablehlo.multiply %6, %arg0 : tensor<4x8xi64>
    %10 = call @_where_0(%8, %9, %6) : (tensor<4x8xi64>, tensor<4x8xi64>, tensor<4x8xi64>) -> tensor<4x8xi64>
    %11 = stablehlo.multiply %arg0, %arg0 : tensor<4x8xi64>
    %c_4 = stablehlo.constant dense<1> : tensor<i64>
    %12 = stablehlo.broadcast_in_dim %c_4, dims = [] : (tensor<i64>) -> tensor<4x8xi64>
    %13 = stablehlo.shift_right_logical %0, %12 : tensor<4x8xi64>
    %c_5 = stablehlo.constant dense<1> : tensor<i64>
    %14 = stablehlo.broadcast_in_dim %c_5, dims = [] : (tensor<i64>) -> tensor<4x8xi64>
    %15 = stablehlo.and %13, %14 : tensor<4x8xi64>
    %16 = stablehlo.multiply %10, %11 : tensor<4x8xi64>
    %17 = call @_where_0(%15, %16, %10) : (tensor<4x8xi64>, tensor<4x8xi64>, tensor<4x8xi64>) -> tensor<4x8xi64>
    %18 = stablehlo.multiply %11, %11 : tensor<4x8xi64>
    %c_6 = stablehlo.constant dense<1> : tensor<i64>
    %19 = stablehlo.broadcast_in_dim %c_6, dims = [] : (tensor<i64>) -> tensor<4x8xi64>
    %20 = stablehlo.shift_right_logical %13, %19 : tensor<4x8xi64>
    %c_7 = stablehlo.constant dense<1> : tensor<i64>
    %21 = stablehlo.broadcast_in_dim %c_7, dims = [] : (tensor<i64>) -> tensor<4x8xi64>
    %22 = stablehlo.and %20, %21 : tensor<4x8xi64>
    %23 = stablehlo.multiply %17, %18 : tensor<4x8xi64>
    %24 = call @_where_0(%22, %23, %17) : (tensor<4x8xi64>, tensor<4x8xi64>, tensor<4x8xi64>) -> tensor<4x8xi64>
    %25 = stablehlo.multiply %18, %18 : tensor<4x8xi64>
    %c_8 = stablehlo.constant dense<1> : tensor<i64>
    %26 = stablehlo.broadcast_in_dim %c_8, dims = [] : (tensor<i64>) -> tensor<4x8xi64>
    %27 = stablehlo.shift_right_logical %20, %26 : tensor<4x8xi64>
    %c_9 = stablehlo.constant dense<1> : tensor<i64>
    %28 = stablehlo.broadcast_in_dim %c_9, dims = [] : (tensor<i64>) -> tensor<4x8xi64>
    %29 = stablehlo.and %27, %28 : tensor<4x8xi64>
    %30 = stablehlo.multiply %24, %25 : tensor<4x8xi64>
    %31 = call @_where_0(%29, %30, %24) : (tensor<4x8xi64>, tensor<4x8xi64>, tensor<4x8xi64>) -> tensor<4x8xi64>
    %32 = stablehlo.multiply %25, %25 : tensor<4x8xi64>
    %c_10 = stablehlo.constant dense<1> : tensor<i64>
    %33 = stablehlo.broadcast_in_dim %c_10, dims = [] : (tensor<i64>) -> tensor<4x8xi64>
    %34 = stablehlo.shift_right_logical %27, %33 : tensor<4x8xi64>
    %c_11 = stablehlo.constant dense<1> : tensor<i64>
    %35 = stablehlo.broadcast_in_dim %c_11, dims = [] : (tensor<i64>) -> tensor<4x8xi64>
    %36 = stablehlo.and %34, %35 : tensor<4x8xi64>
    %37 = stablehlo.multiply %31, %32 : tensor<4x8xi64>
    %38 = call @_where_0(%36, %37, %31) : (tensor<4x8xi64>, tensor<4x8xi64>, tensor<4x8xi64>) -> tensor<4x8xi64>
    %39 = stablehlo.multiply %32, %32 : tensor<4x8xi64>
    %c_12 = stablehlo.constant dense<1> : tensor<i64>
    %40 = stablehlo.broadcast_in_dim %c_12, dims = [] : (tensor<i64>) -> tensor<4x8xi64>
    %41 = stablehlo.shift_right_logical %34, %40 : tensor<4x8xi64>
    %c_13 = stablehlo.constant dense<1> : tensor<i64>
    %42 = stablehlo.broadcast_in_dim %c_13, dims = [] : (tensor<i64>) -> tensor<4x8xi64>
    %43 = stablehlo.and %41, %42 : tensor<4x8xi64>
    %44 = stablehlo.multiply %38, %39 : tensor<4x8xi64>
    %45 = call @_where_0(%43, %44, %38) : (tensor<4x8xi64>, tensor<4x8xi64>, tensor<4x8xi64>) -> tensor<4x8xi64>
    %46 = stablehlo.multiply %39, %39 : tensor<4x8xi64>
    %c_14 = stablehlo.constant dense<1> : tensor<i64>
    %47 = stablehlo.broadcast_in_dim %c_14, dims = [] : (tensor<i64>) -> tensor<4x8xi64>
    %48 = stablehlo.shift_right_logical %41, %47 : tensor<4x8xi64>
    return %45 : tensor<4x8xi64>
  }
  func.func private @_where(%arg0: tensor<4x8xi1>, %arg1: tensor<i64>, %arg2: tensor<i64>) -> tensor<4x8xi64> {
    %0 = stablehlo.broadcast_in_dim %arg1, dims = [] : (tensor<i64>) -> tensor<4x8xi64>
    %1 = stablehlo.broadcast_in_dim %arg2, dims = [] : (tensor<i64>) -> tensor<4x8xi64>
    %2 = stablehlo.select %arg0, %0, %1 : tensor<4x8xi1>, tensor<4x8xi64>
    return %2 : tensor<4x8xi64>
  }
  func.func private @_where_0(%arg0: tensor<4x8xi64>, %arg1: tensor<4x8xi64>, %arg2: tensor<4x8xi64>) -> tensor<4x8xi64> {
    %c = stablehlo.constant dense<0> : tensor<i64>
    %0 = stablehlo.broadcast_in_dim %c, dims = [] : (tensor<i64>) -> tensor<4x8xi64>
    %1 = stablehlo.compare NE, %arg0, %0, SIGNED : (tensor<4x8xi64>, tensor<4x8xi64>) -> tensor<4x8xi1>
    %2 = stablehlo.select %1, %arg1, %arg2 : tensor<4x8xi1>, tensor<4x8xi64>
    return %2 : tensor<4x8xi64>
  }
}
