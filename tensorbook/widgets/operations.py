"""Chapter 2's explorer: a contraction's diagram and the cost of two orders."""

import html

from ._frame import Dropdown, Explorer, Slider, live

#: Contractions offered by :func:`contraction_explorer`: name -> (subscripts,
#: shape of each operand in units of n, operand names for the diagram).
CONTRACTIONS = {
    "matrix chain A B v": ("ij,jk,k->i", ((1, 1), (1, 1), (1,)), "ABv"),
    "mode-1 product X x_1 U": ("ajb,ij->aib", ((1, 1, 1), (1, 1)), "XU"),
    "Tucker: core times 3 factors": ("abc,ia,jb,kc->ijk", ((0.25, 0.25, 0.25), (1, 0.25), (1, 0.25), (1, 0.25)), "GABC"),
    "CP: 3 factors, rank r": ("ir,jr,kr->ijk", ((1, 0.25), (1, 0.25), (1, 0.25)), "ABC"),
    "MTTKRP X_(0) (B kr C)": ("ijk,jr,kr->ir", ((1, 1, 1), (1, 0.25), (1, 0.25)), "XBC"),
    "tensor train, 4 cores": ("ia,ajb,bkc,cl->ijkl", ((1, 0.25), (0.25, 1, 0.25), (0.25, 1, 0.25), (0.25, 1)), ["G0", "G1", "G2", "G3"]),
    "T(I, v, v)": ("ijk,j,k->i", ((1, 1, 1), (1,), (1,)), "Tvv"),
}


def _scaled_shapes(units, n):
    return tuple(tuple(max(1, int(round(u * n))) for u in shape) for shape in units)


def contraction_explorer(contractions=None, *, n=40, n_max=200):
    """A widget to pick a contraction and see its diagram and the cost of two orders.

    A dropdown picks a contraction (:data:`CONTRACTIONS` by default) and a
    slider the size ``n`` (the mode sizes are multiples of it). The output
    shows the tensor-network diagram (:func:`tensorbook.plotting.tensor_network`)
    and, from :func:`tensorbook.contraction_cost`, the flops and the largest
    intermediate of the optimised order and of the left-to-right order. In
    the static book the slider offers the sizes 2, 10, 20, 40, 60, 100, 150 and
    200 (up to ``n_max``, and ``n``).

    Parameters
    ----------
    contractions : dict, optional
        ``name -> (subscripts, unit shapes, operand names)``; each unit shape
        is scaled by ``n`` (and rounded, at least 1).
    n : int
        Initial size (the slider steps by 2 from 2: an odd size starts at the nearest even one).
    n_max : int
        Largest size on the slider.

    Returns
    -------
    ExplorerWidget
        ``.children[0]`` the dropdown, ``.children[1]`` the slider,
        ``.children[2]`` the costs (an ``HTML`` widget), ``.children[3]`` the diagram.

    Examples
    --------
    >>> from tensorbook.widgets import contraction_explorer
    >>> w = contraction_explorer(n=10)
    >>> w.children[0].value, w.children[1].value
    ('matrix chain A B v', 10)
    >>> "the optimised order needs" in w.children[2].value
    True
    """
    from ..contraction import contraction_cost

    contractions = dict(CONTRACTIONS if contractions is None else contractions)
    if not contractions:
        raise ValueError("contractions must name at least one contraction, got none")
    if not 2 <= n <= n_max:
        raise ValueError(f"n must be between 2 and n_max={n_max}, got {n}")

    def cost_of(state):
        subscripts, units, names = contractions[state["contraction"]]
        shapes = _scaled_shapes(units, state["n"])
        return subscripts, shapes, names, contraction_cost(subscripts, *shapes)

    def text(state):
        _, shapes, _, cost = cost_of(state)
        rows = "".join(
            f"<tr><td>{name}</td><td>{plan.flops:,}</td><td>{plan.largest_intermediate:,}</td>"
            f"<td>{'; '.join(step.subscripts for step in plan.steps)}</td></tr>"
            for name, plan in (("optimised", cost.optimal), ("left to right", cost.left_to_right))
        )
        return (f"<p>{html.escape(state['contraction'])}, n = {state['n']}; shapes: {', '.join(map(str, shapes))}</p>"
                "<table><tr><th>order</th><th>flops</th><th>largest intermediate (entries)</th>"
                f"<th>steps</th></tr>{rows}</table>"
                f"<p>the optimised order needs {cost.speedup:,.1f}x fewer flops</p>")

    def draw(state):
        from ..plotting import tensor_network

        subscripts, shapes, names, _ = cost_of(state)
        return tensor_network(subscripts, *shapes, names=list(names), title=f"{subscripts}, n = {state['n']}")

    controls = [Dropdown("contraction", "contraction", list(contractions)),
                Slider("n", "n", range(2, n_max + 1, 2), n,
                       static=lambda state: sorted({2, 10, 20, 40, 60, 100, 150, 200, n_max, n} & set(range(2, n_max + 1, 2))))]
    return live(Explorer(controls, draw, text=text, figure_alt="the tensor-network diagram of the contraction"))
