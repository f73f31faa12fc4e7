import chainrule as torch
from chainrule.autograd import Variable

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w = Variable(torch.Tensor([1.0]), requires_grad=True)

def forward(x):
    return x * w

def loss(x, y):
    y_pred = forward(x)
    return (y_pred-y)*(y_pred-y)

for epoch in range(40):
    for x, y in zip(x_data, y_data):
        l = loss(x, y)
        l.backward()
        if (epoch%5 == 0):
            print("grad: ", x, y, w.grad.data[0])
        w.data = w.data - 0.01 * w.grad.data
        w.grad.data.zero_()
    if (epoch%5 == 0):
        print("process: ", epoch, l.data[0])

print("predict (after training) ", 4, forward(4).data[0])
