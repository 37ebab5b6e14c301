from kairos.cli import app

app()
