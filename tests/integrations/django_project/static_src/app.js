console.log("genro");
