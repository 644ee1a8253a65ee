// Bot function: the flight status line the "Flight Status" dialog answers with.
function flightStatusLine(flight, status) {
  return "Flight " + flight + " is " + status + ".";
}
