from iris import create_app

app = create_app()
