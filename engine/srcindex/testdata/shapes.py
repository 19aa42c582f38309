"""Shapes and their areas.

def not_a_function(): this line is inside the module docstring.
"""
import math


def area(shape: "Shape",
         scale: float = 1.0,  # a comment with (a paren
         ) -> float:
    """Return the area of shape, scaled."""
    def helper(x):  # nested: not indexed
        return x
    return shape.area() * scale


class Shape(object):
    '''A plane figure.

    Subclasses implement area.
    '''

    def area(self):
        raise NotImplementedError

    class Meta:
        kind = "abstract"

        def describe(cls): return "meta"


@dataclass
class Circle(Shape):
    r: float

    async def grow(self, by: float = 2) -> "Circle":
        "Grow the circle."
        return Circle(self.r * by)

	
def ratio(a, b): return a / b
