"""The special-function `chlo` ops (erf family, gamma family, zeta, polygamma, Bessel i1e),
expanded as StableHLO's chlo legalization expands them: the same Cephes / Lanczos / Euler-Maclaurin
approximations with the same coefficients, f16 and bf16 computed in f32, f64 with its own tables
where XLA has them."""
from __future__ import annotations

import math
from collections.abc import Sequence

from ..opcodes import Opcode
from .chlo_expr import (
    ChloRule,
    Expr,
    abs_,
    cos,
    elementwise,
    exp,
    floor,
    is_finite,
    log,
    log1p,
    poly,
    select,
    sign,
    sin,
    sqrt,
    upcast,
)

INF, NAN = math.inf, math.nan

# --- erf, erfc, erf_inv (Cephes) -----------------------------------------------------------------

_ERFC_P32 = (2.326819970068386E-2, -1.387039388740657E-1, 3.687424674597105E-1, -5.824733027278666E-1,
             6.210004621745983E-1, -4.944515323274145E-1, 3.404879937665872E-1, -2.741127028184656E-1,
             5.638259427386472E-1)
_ERFC_R32 = (-1.047766399936249E+1, 1.297719955372516E+1, -7.495518717768503E+0, 2.921019019210786E+0,
             -1.015265279202700E+0, 4.218463358204948E-1, -2.820767439740514E-1, 5.641895067754075E-1)
_ERF_T32 = (7.853861353153693E-5, -8.010193625184903E-4, 5.188327685732524E-3, -2.685381193529856E-2,
            1.128358514861418E-1, -3.761262582423300E-1, 1.128379165726710E+0)
_ERFC_P64 = (2.46196981473530512524E-10, 5.64189564831068821977E-1, 7.46321056442269912687E0,
             4.86371970985681366614E1, 1.96520832956077098242E2, 5.26445194995477358631E2,
             9.34528527171957607540E2, 1.02755188689515710272E3, 5.57535335369399327526E2)
_ERFC_Q64 = (1.0, 1.32281951154744992508E1, 8.67072140885989742329E1, 3.54937778887819891062E2,
             9.75708501743205489753E2, 1.82390916687909736289E3, 2.24633760818710981792E3,
             1.65666309194161350182E3, 5.57535340817727675546E2)
_ERFC_R64 = (5.64189583547755073984E-1, 1.27536670759978104416E0, 5.01905042251180477414E0,
             6.16021097993053585195E0, 7.40974269950448939160E0, 2.97886665372100240670E0)
_ERFC_S64 = (1.0, 2.26052863220117276590E0, 9.39603524938001434673E0, 1.20489539808096656605E1,
             1.70814450747565897222E1, 9.60896809063285878198E0, 3.36907645100081516050E0)
_ERF_T64 = (9.60497373987051638749E0, 9.00260197203842689217E1, 2.23200534594684319226E3,
            7.00332514112805075473E3, 5.55923013010394962768E4)
_ERF_U64 = (1.0, 3.35617141647503099647E1, 5.21357949780152679795E2, 4.59432382970980127987E3,
            2.26290000613890934246E4, 4.92673942608635921086E4)
_MAXLOG = {"f32": 88.72283905206835, "f64": 7.09782712893383996843E2}


def _erfc_tail(x: Expr, approx: Expr) -> Expr:
    # erfc = 0 where e^(-x^2) underflows; erfc(x) = 2 - erfc(-x) for x < 0
    c = select(-(x * x) < -_MAXLOG[x.dtype.name], 0.0, approx)
    return select(x < 0.0, 2.0 - c, c)


def _erfc_ge1_f32(x: Expr) -> Expr:
    # |x| >= 1: erfc(x) = e^(-x^2) / |x| * (P or R)(1/x^2), P on [1, 2), R beyond
    ax, x2 = abs_(x), x * x
    rx2 = 1.0 / x2
    p = select(ax < 2.0, poly(rx2, _ERFC_P32), poly(rx2, _ERFC_R32))
    return _erfc_tail(x, exp(-x2) * (1.0 / ax) * p)


def _erfc_ge1_f64(x: Expr) -> Expr:
    # |x| >= 1: erfc(x) = e^(-x^2) P(|x|)/Q(|x|) on [1, 8), e^(-x^2) R(|x|)/S(|x|) beyond
    ax, ez = abs_(x), exp(-(x * x))
    approx = select(ax < 8.0, ez * poly(ax, _ERFC_P64) / poly(ax, _ERFC_Q64),
                    ez * poly(ax, _ERFC_R64) / poly(ax, _ERFC_S64))
    return _erfc_tail(x, approx)


def _erf_le1(x: Expr) -> Expr:
    # |x| < 1: erf(x) = x T(x^2) (f32), x T(x^2) / U(x^2) (f64)
    x2 = x * x
    if x.dtype.name == "f64":
        return x * poly(x2, _ERF_T64) / poly(x2, _ERF_U64)
    return x * poly(x2, _ERF_T32)


def _erfc(x: Expr) -> Expr:
    ge1 = _erfc_ge1_f64(x) if x.dtype.name == "f64" else _erfc_ge1_f32(x)
    return select(abs_(x) < 1.0, 1.0 - _erf_le1(x), ge1)


def _erf(x: Expr) -> Expr:
    return x.map(Opcode.ERF)  # HLO has erf: XLA keeps chlo.erf as the erf instruction


_ERFINV_32 = ((2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
               -0.00125372503, -0.00417768164, 0.246640727, 1.50140941),
              (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
               -0.0076224613, 0.00943887047, 1.00167406, 2.83297682))
_ERFINV_64_LT625 = (
    -3.6444120640178196996e-21, -1.685059138182016589e-19, 1.2858480715256400167e-18,
    1.115787767802518096e-17, -1.333171662854620906e-16, 2.0972767875968561637e-17,
    6.6376381343583238325e-15, -4.0545662729752068639e-14, -8.1519341976054721522e-14,
    2.6335093153082322977e-12, -1.2975133253453532498e-11, -5.4154120542946279317e-11,
    1.051212273321532285e-09, -4.1126339803469836976e-09, -2.9070369957882005086e-08,
    4.2347877827932403518e-07, -1.3654692000834678645e-06, -1.3882523362786468719e-05,
    0.0001867342080340571352, -0.00074070253416626697512, -0.0060336708714301490533,
    0.24015818242558961693, 1.6536545626831027356)
_ERFINV_64_LT16 = (
    2.2137376921775787049e-09, 9.0756561938885390979e-08, -2.7517406297064545428e-07,
    1.8239629214389227755e-08, 1.5027403968909827627e-06, -4.013867526981545969e-06,
    2.9234449089955446044e-06, 1.2475304481671778723e-05, -4.7318229009055733981e-05,
    6.8284851459573175448e-05, 2.4031110387097893999e-05, -0.0003550375203628474796,
    0.00095328937973738049703, -0.0016882755560235047313, 0.0024914420961078508066,
    -0.0037512085075692412107, 0.005370914553590063617, 1.0052589676941592334, 3.0838856104922207635)
_ERFINV_64_GE16 = (
    -2.7109920616438573243e-11, -2.5556418169965252055e-10, 1.5076572693500548083e-09,
    -3.7894654401267369937e-09, 7.6157012080783393804e-09, -1.4960026627149240478e-08,
    2.9147953450901080826e-08, -6.7711997758452339498e-08, 2.2900482228026654717e-07,
    -9.9298272942317002539e-07, 4.5260625972231537039e-06, -1.9681778105531670567e-05,
    7.5995277030017761139e-05, -0.00021503011930044477347, -0.00013871931833623122026,
    1.0103004648645343977, 4.8499064014085844221)


def _erf_inv_f32(x: Expr) -> Expr:
    # w = -log(1 - x^2); erfinv(x) = x p(w - 2.5) for w < 5, x q(sqrt(w) - 3) beyond
    w = -log1p(x * -x)
    lt = w < 5.0
    lo, hi = _ERFINV_32
    w = select(lt, w - 2.5, sqrt(w) - 3.0)
    p = select(lt, x.like(lo[0]), hi[0])
    for a, b in zip(lo[1:], hi[1:], strict=True):
        p = select(lt, x.like(a), b) + p * w
    return select(abs_(x).eq(1.0), x * INF, p * x)  # erfinv(+-1) = +-inf


def _erf_inv_f64(x: Expr) -> Expr:
    # three regions of w = -log(1 - x^2): [0, 6.25), [6.25, 16), [16, inf), one Horner chain with
    # each coefficient picked from its region's table; the chain stops after 19 terms in the
    # middle region and after 17 in the last, whose tables are that long
    w = -log1p(x * -x)
    lt625, lt16 = w < 6.25, w < 16.0

    def coeff(i: int) -> Expr:
        c = x.like(_ERFINV_64_LT625[i])
        if i < 19:
            c = select(lt625, c, _ERFINV_64_LT16[i])
        if i < 17:
            c = select(lt16, c, _ERFINV_64_GE16[i])
        return c

    w = select(lt625, w - 3.125, sqrt(w) - select(lt16, x.like(3.25), 5.0))
    p = coeff(0)
    for i in range(1, 17):
        p = coeff(i) + p * w
    for i in range(17, 19):
        p = select(lt16, coeff(i) + p * w, p)
    for i in range(19, 23):
        p = select(lt625, coeff(i) + p * w, p)
    return select(abs_(x).eq(1.0), x * INF, p * x)


def _erf_inv(x: Expr) -> Expr:
    return _erf_inv_f64(x) if x.dtype.name == "f64" else upcast(_erf_inv_f32)(x)


# --- lgamma and digamma (Lanczos, g = 7, n = 9) --------------------------------------------------

_LANCZOS_G = 7.0
_LANCZOS_BASE = 0.99999999999980993227684700473478
_LANCZOS = (676.520368121885098567009190444019, -1259.13921672240287047156078755283,
            771.3234287776530788486528258894, -176.61502916214059906584551354,
            12.507343278686904814458936853, -0.13857109526572011689554707,
            9.984369578019570859563e-6, 1.50563273514931155834e-7)


def _lanczos_z(x: Expr) -> tuple[Expr, Expr]:
    """(x < 1/2, z) with z = -x where the reflection formula is used, else x - 1."""
    reflect = x < 0.5
    return reflect, select(reflect, -x, x - 1.0)


def _log_t(z: Expr) -> tuple[Expr, Expr]:
    # t = z + g + 1/2; log t = log(g + 1/2) + log1p(z / (g + 1/2)) for less-precise logs (the
    # division by a constant as XLA's simplifier leaves it: a multiplication by its reciprocal)
    lph = _LANCZOS_G + 0.5
    return z + lph, log1p(z * (1.0 / lph)) + math.log(lph)


def _lgamma(x: Expr) -> Expr:
    reflect, z = _lanczos_z(x)
    a = x.like(_LANCZOS_BASE)
    for k, c in enumerate(_LANCZOS, start=1):
        a = a + c / (z + float(k))  # a(z) = base + sum c_k / (z + k)
    t, log_t = _log_t(z)
    # lgamma(z + 1) = log(2 pi)/2 + (z + 1/2 - t / log t) log t + log a(z)   (no overflow in t)
    r = ((z + 0.5) - t / log_t) * log_t
    lg = ((math.log(2) + math.log(math.pi)) / 2 + r) + log(a)
    # reflection: lgamma(x) = log(pi) - log|sin(pi frac|x|)| - lgamma(1 - x), frac folded into
    # [0, 1/2] so pi * frac keeps its precision and integers give exactly log(0) = -inf
    ab = abs_(x)
    frac = ab - floor(ab)
    frac = select(frac > 0.5, 1.0 - frac, frac)
    denom = log(sin(math.pi * frac))
    refl = select(is_finite(denom), (math.log(math.pi) - denom) - lg, -denom)
    lg = select(reflect, refl, lg)
    return select(abs_(x).eq(INF), INF, lg)  # lgamma(+-inf) = inf


def _digamma(x: Expr) -> Expr:
    reflect, z = _lanczos_z(x)
    a, da = x.like(_LANCZOS_BASE), x.like(0.0)
    for k, c in enumerate(_LANCZOS, start=1):
        zk = z + float(k)
        da = da - c / (zk * zk)  # a'(z) = -sum c_k / (z + k)^2
        a = a + c / zk
    t, log_t = _log_t(z)
    dg = (log_t + da / a) - _LANCZOS_G / t  # digamma(z + 1) = log t + a'/a - g / t
    # reflection: digamma(x) = digamma(1 - x) - pi cos(pi x) / sin(pi x), x moved into [-1/2, 1/2]
    rx = x + abs_(floor(x + 0.5))
    prx = math.pi * rx
    dg = select(reflect, dg - (math.pi * cos(prx)) / sin(prx), dg)
    return select((x <= 0.0) & x.eq(floor(x)), NAN, dg)  # the poles at 0, -1, -2, ... give NaN


# --- zeta and polygamma --------------------------------------------------------------------------

_ZETA_COEFFS = (-7.1661652561756670113e18, 1.8152105401943546773e17, -4.5979787224074726105e15,
                1.1646782814350067249e14, -2.950130727918164224e12, 7.47242496e10,
                -1.8924375803183791606e9, 47900160.0, -1209600.0, 30240.0, -720.0, 12.0)


def _zeta(x: Expr, q: Expr) -> Expr:
    # Hurwitz zeta by Euler-Maclaurin (Johansson 2015, formula 5): 10 terms of the series, then
    # a 12-term Bernoulli tail evaluated by Horner's rule
    terms = len(_ZETA_COEFFS)
    acc, power_sum = q, q ** -x
    for _ in range(9):
        acc = acc + 1.0
        power_sum = power_sum + acc ** -x
    acc = acc + 1.0
    q_neg_power = acc ** -x
    correction = q_neg_power * acc / (x - 1.0)
    inv_acc2 = 1.0 / (acc * acc)
    horner = q.like(0.0)
    for i in range(terms - 1):
        product = (x + float(2 * terms - 2 - 2 * i)) * (x + float(2 * terms - 3 - 2 * i))
        horner = product * (inv_acc2 * (horner + 1.0 / _ZETA_COEFFS[i]))
    tail = q_neg_power * (0.5 + (x / acc) * (1.0 / _ZETA_COEFFS[-1] + horner))
    # (XLA guards this with "power_sum alone where q_neg_power < |power_sum| * smallest subnormal";
    # XLA:CPU reads that subnormal as 0, so the corrected sum is what it computes)
    out = (power_sum + correction) + tail
    out = select(x < 1.0, NAN, out)  # undefined below 1
    q_le0 = q <= 0.0
    x_int = x.eq(floor(x))
    out = select(q_le0 & ~x_int, NAN, out)  # q <= 0 needs an integer x
    at_pole = q_le0 & q.eq(floor(q))
    out = select(at_pole, select(x_int & (x % 2.0).eq(0.0), x.like(INF), NAN), out)
    return select(x.eq(1.0), INF, out)  # the harmonic series


def _polygamma(n: Expr, x: Expr) -> Expr:
    # polygamma(n, x) = (-1)^(n+1) n! zeta(n + 1, x); digamma for n = 0; NaN unless n is natural
    n1 = n + 1.0
    res = (2.0 * (n % 2.0) - 1.0) * exp(_lgamma(n1)) * _zeta(n1, x)
    res = select(n.eq(0.0), _digamma(x), res)
    return select(n.ne(floor(n)) | (n < 0.0), NAN, res)


# --- Bessel i1e (Cephes Chebyshev series) --------------------------------------------------------

_I1E_A32 = (9.38153738649577178388E-9, -4.44505912879632808065E-8, 2.00329475355213526229E-7,
            -8.56872026469545474066E-7, 3.47025130813767847674E-6, -1.32731636560394358279E-5,
            4.78156510755005422638E-5, -1.61760815825896745588E-4, 5.12285956168575772895E-4,
            -1.51357245063125314899E-3, 4.15642294431288815669E-3, -1.05640848946261981558E-2,
            2.47264490306265168283E-2, -5.29459812080949914269E-2, 1.02643658689847095384E-1,
            -1.76416518357834055153E-1, 2.52587186443633654823E-1)
_I1E_B32 = (-3.83538038596423702205E-9, -2.63146884688951950684E-8, -2.51223623787020892529E-7,
            -3.88256480887769039346E-6, -1.10588938762623716291E-4, -9.76109749136146840777E-3,
            7.78576235018280120474E-1)
_I1E_A64 = (2.77791411276104639959E-18, -2.11142121435816608115E-17, 1.55363195773620046921E-16,
            -1.10559694773538630805E-15, 7.60068429473540693410E-15, -5.04218550472791168711E-14,
            3.22379336594557470981E-13, -1.98397439776494371520E-12, 1.17361862988909016308E-11,
            -6.66348972350202774223E-11, 3.62559028155211703701E-10, -1.88724975172282928790E-9) + _I1E_A32
_I1E_B64 = (7.51729631084210481353E-18, 4.41434832307170791151E-18, -4.65030536848935832153E-17,
            -3.20952592199342395980E-17, 2.96262899764595013876E-16, 3.30820231092092828324E-16,
            -1.88035477551078244854E-15, -3.81440307243700780478E-15, 1.04202769841288027642E-14,
            4.27244001671195135429E-14, -2.10154184277266431302E-14, -4.08355111109219731823E-13,
            -7.19855177624590851209E-13, 2.03562854414708950722E-12, 1.41258074366137813316E-11,
            3.25260358301548823856E-11, -1.89749581235054123450E-11, -5.58974346219658380687E-10) + _I1E_B32


def _chebyshev(x: Expr, coeffs: Sequence[float]) -> Expr:
    # Clenshaw's recurrence: b0 = x b1 - b2 + c; result (b0 - b2) / 2
    b0 = b1 = b2 = x.like(0.0)
    for c in coeffs:
        b2, b1 = b1, b0
        b0 = (x * b1 - b2) + c
    return (b0 - b2) * 0.5


def _bessel_i1e(x: Expr) -> Expr:
    # i1e(x) = sign(x) |x| A(|x|/2 - 2) for |x| <= 8, sign(x) B(32/|x| - 2) / sqrt|x| beyond
    a, b = (_I1E_A64, _I1E_B64) if x.dtype.name == "f64" else (_I1E_A32, _I1E_B32)
    z = abs_(x)
    le8 = z * _chebyshev(0.5 * z - 2.0, a)
    gt8 = _chebyshev(32.0 / z - 2.0, b) / sqrt(z)
    return sign(x) * select(z <= 8.0, le8, gt8)


SPECIAL_RULES: dict[str, ChloRule] = {
    "erf": elementwise("erf", _erf),
    "erfc": elementwise("erfc", upcast(_erfc)),
    "erf_inv": elementwise("erf_inv", _erf_inv),
    "lgamma": elementwise("lgamma", upcast(_lgamma)),
    "digamma": elementwise("digamma", upcast(_digamma)),
    "zeta": elementwise("zeta", upcast(_zeta), arity=2),
    "polygamma": elementwise("polygamma", upcast(_polygamma), arity=2),
    "bessel_i1e": elementwise("bessel_i1e", upcast(_bessel_i1e)),
}
