from services.notifications.main import run

run()
