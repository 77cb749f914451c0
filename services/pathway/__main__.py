from services.pathway.main import run

run()
